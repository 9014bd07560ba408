import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Server, utils } from "ssh2";
import { EarlySockets } from "../../lib/ssh/early-sockets";
import { openEarlySockets } from "../../lib/cdktf/preconnect";
import { HostSession } from "../../lib/ssh/session";
import { resolveConnection } from "../../lib/ssh/resolve";
import { sshFingerprint } from "../../lib/ssh/fingerprint";
import { LatencyProxy } from "../../bench/latency-proxy";
import { soundKeyPair } from "../support/ssh-keys";

/**
 * TCP connections opened before the SSH client loads (lib/ssh/early-sockets.ts): handed
 * over once with what the server already sent, dropped quietly when they fail, closed when
 * nobody takes them; and an SSH connect that takes one opens no second connection.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "early-sockets-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A TCP server that greets each connection as sshd does; it counts connections, and the ones
 * the client closed (by FIN, or by RST: a client that never read the greeting resets).
 */
async function greeter(): Promise<{ port: number; accepted: () => number; closedByPeer: () => number; stop: () => Promise<void> }> {
  let accepted = 0;
  let closed = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => closed++);
    socket.on("error", () => undefined);
    socket.write("SSH-2.0-Greeter\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    closedByPeer: () => closed,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
};

async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test("a socket is handed over once, with the greeting the server sent while nobody read", async () => {
  const server = await greeter();
  const sockets = new EarlySockets();
  try {
    sockets.open("127.0.0.1", server.port);
    sockets.open("127.0.0.1", server.port); // one per address
    await until(() => server.accepted() === 1);
    await new Promise((r) => setTimeout(r, 50)); // the greeting arrives, unread
    const socket = sockets.take("127.0.0.1", server.port)!;
    expect(sockets.take("127.0.0.1", server.port)).toBeUndefined();
    const greeting = await new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
    expect(greeting).toBe("SSH-2.0-Greeter\r\n");
    socket.destroy();
    expect(server.accepted()).toBe(1);
  } finally {
    sockets.close();
    await server.stop();
  }
});

test("a refused connect is dropped without an error; close() ends the sockets nobody took", async () => {
  const server = await greeter();
  const refused = await refusedPort(); // after the server listens: never its port
  const sockets = new EarlySockets();
  try {
    sockets.open("127.0.0.1", refused);
    sockets.open("127.0.0.1", server.port);
    await until(() => server.accepted() === 1 && sockets.waiting === 1);
    expect(sockets.take("127.0.0.1", refused)).toBeUndefined();
    sockets.close();
    expect(sockets.waiting).toBe(0);
    await until(() => server.closedByPeer() === 1);
  } finally {
    sockets.close();
    await server.stop();
  }
});

test("an SSH connect takes the early socket of its first hop: one TCP connection, and it logs in", async () => {
  const hostPair = soundKeyPair();
  const client = soundKeyPair();
  const keyFile = path.join(dir, "client");
  fs.writeFileSync(keyFile, client.private, { mode: 0o600 });
  const ssh = new Server({ hostKeys: [hostPair.private] }, (c) => {
    c.on("authentication", (ctx) => (ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
    c.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => ssh.listen(0, "127.0.0.1", () => resolve()));
  // The proxy counts the TCP connections the SSH server gets.
  const proxy = await LatencyProxy.start({ targetHost: "127.0.0.1", targetPort: (ssh.address() as net.AddressInfo).port, rttMs: 0 });
  const connection = {
    host: "127.0.0.1",
    port: proxy.port,
    user: "deploy",
    privateKeyPath: keyFile,
    useAgent: false,
    hostKey: sshFingerprint((utils.parseKey(hostPair.public) as { getPublicSSH(): Buffer }).getPublicSSH()),
    connectTimeoutSeconds: 5,
  };
  const env = { ...process.env, WEBSHARE_SSH_AGENT: "off" };
  const sockets = openEarlySockets([connection], env);
  try {
    await until(() => proxy.counts().connections === 1);
    const session = await HostSession.openResolved(resolveConnection(connection, { env }), env, () => undefined, { sockets });
    expect(sockets.waiting).toBe(0);
    session.dispose();
    expect(proxy.counts().connections).toBe(1);
  } finally {
    sockets.close();
    await proxy.close();
    await new Promise<void>((resolve) => ssh.close(() => resolve()));
  }
});

test("an attempt that fails before its SSH client takes the early socket (a key file others can read) closes it", async () => {
  const server = await greeter();
  const looseKey = path.join(dir, "loose");
  fs.writeFileSync(looseKey, soundKeyPair().private, { mode: 0o644 });
  fs.chmodSync(looseKey, 0o644);
  const connection = { host: "127.0.0.1", port: server.port, user: "deploy", privateKeyPath: looseKey, useAgent: false, hostKey: "SHA256:" + "A".repeat(43), connectTimeoutSeconds: 5 };
  const sockets = openEarlySockets([connection], process.env);
  try {
    await until(() => server.accepted() === 1);
    await expect(HostSession.openResolved(resolveConnection(connection, { env: process.env }), process.env, () => undefined, { sockets })).rejects.toThrow(/others can read|permissions/i);
    expect(sockets.waiting).toBe(0);
    await until(() => server.closedByPeer() === 1);
  } finally {
    sockets.close();
    await server.stop();
  }
});
