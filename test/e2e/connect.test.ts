import * as net from "node:net";
import { HostSession } from "../../lib/ssh/session";
import { HOST_KEY_INSECURE_ACCEPT_ANY } from "../../constructs";
import type { ConnectionSpec } from "../../lib/spec";
import { localHost, Target } from "../support/local-host";

/**
 * Connecting safely: a host key that does not match the pin is refused with the seen
 * fingerprint; an unreachable or silent host fails in seconds, not minutes.
 */
let target: Target;
let connection: ConnectionSpec;

beforeAll(() => {
  target = localHost().managed;
  connection = { host: target.host, port: target.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10 };
});

/** Run `open` and return its error message and how long it took. */
async function failure(spec: ConnectionSpec): Promise<{ message: string; seconds: number }> {
  const started = Date.now();
  try {
    (await HostSession.open(spec)).dispose();
  } catch (e) {
    return { message: (e as Error).message, seconds: (Date.now() - started) / 1000 };
  }
  throw new Error("connected, but should not have");
}

test("the pinned key connects", async () => {
  const session = await HostSession.open(connection);
  expect(session.hostKey).toBe(target.hostKey);
  session.dispose();
});

test("a changed host key is refused within 15 s, naming the key it presented", async () => {
  const pinned = "SHA256:" + "C".repeat(43);
  const result = await failure({ ...connection, hostKey: pinned });
  expect(result.message).toBe(`host key verification failed for ${target.user}@${target.host}:${target.port}: the host presented ${target.hostKey}, but ${pinned} is pinned`);
  expect(result.seconds).toBeLessThan(15);
});

test("a host that accepts TCP but never speaks SSH fails within 15 s", async () => {
  const silent = net.createServer(() => undefined); // accepts and says nothing, like a hung host
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const result = await failure({ ...connection, port });
    expect(result.message).toBe(`cannot connect to ${target.user}@127.0.0.1:${port}: no SSH handshake within 10s`);
    expect(result.seconds).toBeGreaterThanOrEqual(9);
    expect(result.seconds).toBeLessThan(15);
  } finally {
    silent.close();
  }
});

test("a closed port fails at once, naming the host", async () => {
  const result = await failure({ ...connection, port: 1 });
  expect(result.message.startsWith(`cannot connect to ${target.user}@${target.host}:1: connect ECONNREFUSED`)).toBe(true);
  expect(result.seconds).toBeLessThan(15);
});

test("the explicit opt-out connects but warns loudly with the fingerprint to pin", async () => {
  const warnings: string[] = [];
  const session = await HostSession.open({ ...connection, hostKey: HOST_KEY_INSECURE_ACCEPT_ANY }, process.env, (l) => warnings.push(l));
  session.dispose();
  expect(warnings).toEqual([
    `WARNING: host key of ${target.user}@${target.host}:${target.port} NOT verified (HOST_KEY_INSECURE_ACCEPT_ANY). It presented ${target.hostKey}; pin it: hostKey: "${target.hostKey}"`,
  ]);
});
