import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { HostSession, LOGIN_AHEAD_ENV } from "../../lib/ssh/session";
import { countsBetween, LatencyProxy } from "../../bench/latency-proxy";
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
    (await HostSession.open(spec, process.env)).dispose();
  } catch (e) {
    return { message: (e as Error).message, seconds: (Date.now() - started) / 1000 };
  }
  throw new Error("connected, but should not have");
}

test("the pinned key connects", async () => {
  const session = await HostSession.open(connection, process.env);
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
    // One attempt: the timeout alone (retries are the next tests').
    const result = await failure({ ...connection, port, connectAttempts: 1 });
    expect(result.message).toBe(`cannot connect to ${target.user}@127.0.0.1:${port}: no SSH handshake within 10s`);
    expect(result.seconds).toBeGreaterThanOrEqual(9);
    expect(result.seconds).toBeLessThan(15);
  } finally {
    silent.close();
  }
});

test("a closed port fails at once with one attempt, naming the host", async () => {
  const result = await failure({ ...connection, port: 1, connectAttempts: 1 });
  expect(result.message.startsWith(`cannot connect to ${target.user}@${target.host}:1: connect ECONNREFUSED`)).toBe(true);
  expect(result.seconds).toBeLessThan(2);
});

test("by default a refused connect is tried 4 times within about 7 s, one line per retry", async () => {
  const lines: string[] = [];
  const started = Date.now();
  await expect(HostSession.open({ ...connection, port: 1 }, process.env, (l) => lines.push(l))).rejects.toThrow(/connect ECONNREFUSED/);
  expect(lines.map((l) => l.replace(/ \(.*\)/, ""))).toEqual([1, 2, 3].map((n) => `[connect] ${target.user}@${target.host}:1: attempt ${n}/4 failed; trying again in ${2 ** (n - 1)}s`));
  expect((Date.now() - started) / 1000).toBeGreaterThanOrEqual(7);
  expect((Date.now() - started) / 1000).toBeLessThan(15);
});

test("a silent host is retried too, but no attempt starts after connectRetrySeconds", async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as net.AddressInfo).port;
  const lines: string[] = [];
  try {
    const started = Date.now();
    await expect(HostSession.open({ ...connection, port, connectTimeoutSeconds: 2, connectRetrySeconds: 4 }, process.env, (l) => lines.push(l))).rejects.toThrow("no SSH handshake within 2s");
    // 2 s timeout, 1 s pause, 2 s timeout: 3 s + 2 s pause would pass 4 s, so it stops there.
    expect(lines).toEqual([expect.stringContaining("attempt 1/4 failed (no SSH handshake within 2s); trying again in 1s")]);
    expect((Date.now() - started) / 1000).toBeLessThan(8);
  } finally {
    silent.close();
  }
});

test("the sshd starting a moment after the deploy's connect: the retry gets in", async () => {
  // A TCP port that refuses for ~1.5 s, then forwards to the real sshd.
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const relay = net.createServer((socket) => {
    const upstream = net.connect(target.port, target.host);
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  const late = setTimeout(() => relay.listen(port, "127.0.0.1"), 1500);
  const lines: string[] = [];
  try {
    const session = await HostSession.open({ ...connection, port }, process.env, (l) => lines.push(l));
    expect(session.hostKey).toBe(target.hostKey);
    session.dispose();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toContain("attempt 1/4 failed (connect ECONNREFUSED");
  } finally {
    clearTimeout(late);
    relay.close();
  }
});

test("the explicit opt-out connects but warns loudly with the fingerprint to pin", async () => {
  const warnings: string[] = [];
  const session = await HostSession.open({ ...connection, hostKey: HOST_KEY_INSECURE_ACCEPT_ANY }, process.env, (l) => warnings.push(l));
  session.dispose();
  expect(warnings).toEqual([
    `WARNING: host key of ${target.user}@${target.host}:${target.port} NOT verified (HOST_KEY_INSECURE_ACCEPT_ANY). It presented ${target.hostKey}; pin it: hostKey: "${target.hostKey}"`,
  ]);
});

test("the key in an ssh-agent logs in (no key file); a key the host does not accept fails, naming the host", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connect-agent-"));
  const socket = path.join(dir, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  try {
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
    expect(spawnSync("ssh-add", [target.key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" }).status).toBe(0);
    const viaAgent = { ...connection, privateKeyPath: undefined, useAgent: true };
    const session = await HostSession.open(viaAgent, { ...process.env, SSH_AUTH_SOCK: socket });
    expect((await session.run({ unit: "t/connect", target: session.target }, "who", "id -un")).stdout).toBe(`${target.user}\n`);
    session.dispose();

    const stranger = path.join(dir, "stranger");
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger]).status).toBe(0);
    const refused = await failure({ ...connection, privateKeyPath: stranger, connectAttempts: 1 });
    expect(refused.message).toContain(`${target.user}@${target.host}:${target.port}`);
    expect(refused.message).toContain("All configured authentication methods failed");

    // The key file's early login refused, the agent's key is tried next (lib/ssh/login-ahead.ts).
    const lines: string[] = [];
    const fallsBack = await HostSession.open({ ...connection, privateKeyPath: stranger, useAgent: true, connectAttempts: 1 }, { ...process.env, SSH_AUTH_SOCK: socket }, (l) => lines.push(l));
    expect((await fallsBack.run({ unit: "t/connect", target: fallsBack.target }, "who", "id -un")).stdout).toBe(`${target.user}\n`);
    fallsBack.dispose();
    expect(lines).toEqual([]);
  } finally {
    agent.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("OpenSSH takes the early key login: at least 4 network turns (2 round trips) fewer than ssh2's own, and it logs in", async () => {
  // 20 ms each way keeps the exchanges apart, so the proxy counts each turn once.
  const proxy = await LatencyProxy.start({ targetHost: target.host, targetPort: target.port, rttMs: 20 });
  const loginTurns = async (env: NodeJS.ProcessEnv): Promise<number> => {
    const before = proxy.counts();
    const session = await HostSession.open({ ...connection, port: proxy.port }, { ...env, WEBSHARE_SSH_AGENT: "off" });
    expect((await session.run({ unit: "t/connect", target: session.target }, "who", "id -un")).stdout).toBe(`${target.user}\n`);
    session.dispose();
    for (let i = 0; i < 100 && proxy.openSockets > 0; i++) await new Promise((r) => setTimeout(r, 20));
    return countsBetween(before, proxy.counts()).turns;
  };
  try {
    const early = await loginTurns(process.env);
    const usual = await loginTurns({ ...process.env, [LOGIN_AHEAD_ENV]: "off" });
    // At least: what the host sends after the login (its host keys) may share a turn with
    // the first command in one case and not in the other.
    expect(early).toBeLessThanOrEqual(usual - 4);
  } finally {
    await proxy.close();
  }
});
