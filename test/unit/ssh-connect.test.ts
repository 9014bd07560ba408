import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Server, utils } from "ssh2";
import { HostSession } from "../../lib/ssh/session";
import { sshFingerprint } from "../../lib/ssh/fingerprint";
import { hashedKnownHostsLine } from "../../lib/ssh/known-hosts";
import { soundKeyPair } from "../support/ssh-keys";
import type { ConnectionSpec } from "../../lib/spec";

/**
 * Connecting with retries and several pins, against an in-process SSH server (ssh2's) on
 * loopback: a refused connect is tried again until the server is up; a wrong host key or a
 * refused login is not retried; with old and new key pinned, a host that switches keys still
 * connects.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-connect-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function hostKey(): { private: string; fingerprint: string } {
  const pair = soundKeyPair();
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return { private: pair.private, fingerprint: sshFingerprint(parsed.getPublicSSH()) };
}

const clientKey = soundKeyPair();
const keyFile = path.join(dir, "client");
fs.writeFileSync(keyFile, clientKey.private, { mode: 0o600 });

/** An SSH server with this host key that accepts `user` (any other user is refused). */
function sshServer(key: { private: string }, user = "deploy"): Server {
  return new Server({ hostKeys: [key.private] }, (client) => {
    client.on("authentication", (ctx) => (ctx.method === "publickey" && ctx.username === user ? ctx.accept() : ctx.reject(["publickey"])));
    client.on("error", () => undefined);
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const spec = (port: number, pins: string | string[], extra: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
  host: "127.0.0.1",
  port,
  user: "deploy",
  privateKeyPath: keyFile,
  useAgent: false,
  hostKey: pins,
  connectTimeoutSeconds: 5,
  ...extra,
});

test("a refused connect is tried again, with a line per attempt, and succeeds once the host listens", async () => {
  const key = hostKey();
  const port = await freePort();
  const server = sshServer(key);
  const lines: string[] = [];
  const started = Date.now();
  const late = setTimeout(() => void listen(server, port), 1500); // up between attempt 2 (1 s) and 3 (3 s)
  try {
    const session = await HostSession.open(spec(port, key.fingerprint), process.env, (l) => lines.push(l));
    expect(session.hostKey).toBe(key.fingerprint);
    session.dispose();
  } finally {
    clearTimeout(late);
    await close(server);
  }
  expect(lines).toEqual([
    expect.stringMatching(new RegExp(`^\\[connect\\] deploy@127\\.0\\.0\\.1:${port}: attempt 1/4 failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); trying again in 1s$`)),
    expect.stringMatching(/attempt 2\/4 failed \(connect ECONNREFUSED .*\); trying again in 2s$/),
  ]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
});

test("the attempts are bounded: connectAttempts, and no attempt starts after connectRetrySeconds", async () => {
  const port = await freePort();
  const lines: string[] = [];
  const started = Date.now();
  await expect(HostSession.open(spec(port, "SHA256:" + "A".repeat(43), { connectAttempts: 2 }), process.env, (l) => lines.push(l))).rejects.toThrow(
    `cannot connect to deploy@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
  );
  expect(lines).toHaveLength(1);
  lines.length = 0;
  await expect(HostSession.open(spec(port, "SHA256:" + "A".repeat(43), { connectRetrySeconds: 2 }), process.env, (l) => lines.push(l))).rejects.toThrow(/ECONNREFUSED/);
  expect(lines).toHaveLength(1); // 1 s delay fits in 2 s, the next (2 s) would not
  expect(Date.now() - started).toBeLessThan(5000);
});

test("a wrong host key and a refused login are not retried", async () => {
  const key = hostKey();
  const port = await freePort();
  const server = sshServer(key);
  await listen(server, port);
  try {
    const lines: string[] = [];
    const wrong = "SHA256:" + "W".repeat(43);
    await expect(HostSession.open(spec(port, wrong), process.env, (l) => lines.push(l))).rejects.toThrow(
      `host key verification failed for deploy@127.0.0.1:${port}: the host presented ${key.fingerprint}, but ${wrong} is pinned`,
    );
    await expect(HostSession.open(spec(port, key.fingerprint, { user: "nobody" }), process.env, (l) => lines.push(l))).rejects.toThrow(/authentication methods failed/);
    expect(lines).toEqual([]);
  } finally {
    await close(server);
  }
});

test("rotation: old and new key pinned, the host switches keys, both connect; the old pin alone does not", async () => {
  const oldKey = hostKey();
  const newKey = hostKey();
  const port = await freePort();
  const pins = [oldKey.fingerprint, newKey.fingerprint];
  let server = sshServer(oldKey);
  await listen(server, port);
  try {
    const before = await HostSession.open(spec(port, pins), process.env);
    expect(before.hostKey).toBe(oldKey.fingerprint);
    before.dispose();
    await close(server);
    server = sshServer(newKey);
    await listen(server, port);
    const after = await HostSession.open(spec(port, pins), process.env);
    expect(after.hostKey).toBe(newKey.fingerprint);
    after.dispose();
    await expect(HostSession.open(spec(port, oldKey.fingerprint), process.env)).rejects.toThrow(/host key verification failed/);
  } finally {
    await close(server);
  }
});

test("a known_hosts file pins too, hashed entries included; @revoked wins over a pin", async () => {
  const key = hostKey();
  const port = await freePort();
  const server = sshServer(key);
  await listen(server, port);
  const pubLine = (k: { private: string }) => {
    const p = utils.parseKey(k.private);
    if (p instanceof Error) throw p;
    return `ssh-ed25519 ${p.getPublicSSH().toString("base64")}`;
  };
  const knownHosts = path.join(dir, "known_hosts");
  fs.writeFileSync(knownHosts, hashedKnownHostsLine("127.0.0.1", port, pubLine(key), Buffer.alloc(20, 1)) + "\n");
  try {
    const session = await HostSession.open(spec(port, [], { hostKey: undefined, knownHostsFile: knownHosts }), process.env);
    expect(session.hostKey).toBe(key.fingerprint);
    session.dispose();
    fs.writeFileSync(knownHosts, `@revoked [127.0.0.1]:${port} ${pubLine(key)}\n`);
    await expect(HostSession.open(spec(port, key.fingerprint, { knownHostsFile: knownHosts }), process.env)).rejects.toThrow(/marks @revoked/);
  } finally {
    await close(server);
  }
});
