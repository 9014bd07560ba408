import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Server, utils } from "ssh2";
import { HostSession } from "../../lib/ssh/session";
import { sshFingerprint } from "../../lib/ssh/fingerprint";
import { quote } from "../../lib/shell";
import { soundKeyPair } from "../support/ssh-keys";

/**
 * A command sent while the command agent starts, against an in-process SSH server (ssh2's)
 * that runs each exec request with this machine's /bin/sh and takes at most `maxSessions`
 * channels at a time, as sshd's MaxSessions does: with a session to spare the command takes
 * its own channel beside the agent's; a host that refuses it runs the command once, through
 * the agent.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "early-exec-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hostPair = soundKeyPair();
const parsedHost = utils.parseKey(hostPair.public);
if (parsedHost instanceof Error) throw parsedHost;
const hostFingerprint = sshFingerprint(parsedHost.getPublicSSH());
const keyFile = path.join(dir, "client");
fs.writeFileSync(keyFile, soundKeyPair().private, { mode: 0o600 });
const place = { unit: "test/early-exec", target: "deploy@127.0.0.1" };

interface ExecServer {
  readonly port: number;
  /** Session channels refused because `maxSessions` were open. */
  refused(): number;
  close(): Promise<void>;
}

async function execServer(maxSessions: number): Promise<ExecServer> {
  let open = 0;
  let refused = 0;
  const server = new Server({ hostKeys: [hostPair.private] }, (client) => {
    client.on("authentication", (ctx) => (ctx.method === "publickey" && ctx.username === "deploy" ? ctx.accept() : ctx.reject(["publickey"])));
    client.on("error", () => undefined);
    client.on("session", (accept, reject) => {
      if (open >= maxSessions) {
        refused++;
        reject();
        return;
      }
      open++;
      const session = accept();
      session.on("close", () => open--);
      session.on("exec", (acceptExec, _reject, info) => {
        const stream = acceptExec();
        const child = spawn("/bin/sh", ["-c", info.command], { stdio: "pipe" });
        stream.pipe(child.stdin).on("error", () => undefined);
        // Not ended by the pipes: the exit status goes before the channel's end.
        child.stdout.pipe(stream, { end: false });
        child.stderr.pipe(stream.stderr, { end: false });
        child.on("close", (code) => {
          stream.exit(code ?? 1);
          stream.end();
        });
        stream.on("close", () => child.kill());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, refused: () => refused, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function openSession(port: number): Promise<HostSession> {
  return HostSession.open({ host: "127.0.0.1", port, user: "deploy", privateKeyPath: keyFile, useAgent: false, hostKey: hostFingerprint, connectTimeoutSeconds: 5 }, process.env, () => undefined);
}

// The command's shell prints its parent: this process (the server's own exec) or the agent's Python.
const parentOf = (ran: string) => `echo once >> ${quote(ran)}; echo "$PPID"; cat /proc/$PPID/comm`;

/** A session on a fresh server taking `maxSessions` channels at a time; `ran` is the file each command appends to. */
async function withSession(maxSessions: number, work: (session: HostSession, server: ExecServer, ran: string) => Promise<void>): Promise<void> {
  const server = await execServer(maxSessions);
  const session = await openSession(server.port);
  try {
    await work(session, server, path.join(dir, `ran-${maxSessions}`));
  } finally {
    session.dispose();
    await server.close();
  }
}

test("with a session to spare, the first command runs on its own channel while the agent starts; the next goes through the agent", () =>
  withSession(10, async (session, server, ran) => {
    const first = (await session.run(place, "first", parentOf(ran))).stdout.split("\n");
    expect(first[0]).toBe(String(process.pid));
    await session.warm();
    expect(await session.transport()).toBe("agent");
    const next = (await session.run(place, "next", parentOf(ran))).stdout.split("\n");
    expect(next[1]).toBe("python3");
    expect(fs.readFileSync(ran, "utf8")).toBe("once\nonce\n");
    expect(server.refused()).toBe(0);
  }));

test("a host that takes one session at a time refuses the command's own channel: it waits for the agent and runs once", () =>
  withSession(1, async (session, server, ran) => {
    const out = (await session.run(place, "first", parentOf(ran))).stdout.split("\n");
    expect(out[1]).toBe("python3");
    expect(fs.readFileSync(ran, "utf8")).toBe("once\n");
    expect(server.refused()).toBe(1);
    expect(await session.transport()).toBe("agent");
  }));
