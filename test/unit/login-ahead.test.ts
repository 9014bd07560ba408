import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Server, utils, type AuthContext } from "ssh2";
import { HostSession, LOGIN_AHEAD_ENV } from "../../lib/ssh/session";
import { loginAhead } from "../../lib/ssh/login-ahead";
import { sshFingerprint } from "../../lib/ssh/fingerprint";
import { soundKeyPair } from "../support/ssh-keys";
import type { ConnectionSpec } from "../../lib/spec";

/**
 * The early key login (lib/ssh/login-ahead.ts) as an SSH server sees it, against ssh2's
 * in-process server on loopback: which user-auth requests arrive, in which order, signed or
 * not. The real sshd's side (OpenSSH accepts it, 2 round trips less) is test/e2e/connect.test.ts.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "login-ahead-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hostPair = soundKeyPair();
const hostPin = sshFingerprint((utils.parseKey(hostPair.public) as { getPublicSSH(): Buffer }).getPublicSSH());
const accepted = soundKeyPair();
const stranger = soundKeyPair();
const keyFile = (name: string, key: string, mode = 0o600): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, key, { mode });
  return file;
};
const acceptedFile = keyFile("accepted", accepted.private);
const strangerFile = keyFile("stranger", stranger.private);

/** One user-auth request as the server saw it. */
type Seen = "query" | "signed" | "other";

interface Recorder {
  readonly server: Server;
  /** The requests of each connection, in order. */
  readonly connections: Seen[][];
}

/**
 * A server that accepts the `accepted` key only. `dropEarly`: it drops a connection whose
 * first request is a signature without a query first (a server that cannot take the early
 * login; none is known, this stands for one).
 */
function recordingServer(options: { dropEarly?: boolean } = {}): Recorder {
  const connections: Seen[][] = [];
  const acceptedKey = utils.parseKey(accepted.public) as { getPublicSSH(): Buffer };
  const server = new Server({ hostKeys: [hostPair.private] }, (client) => {
    const seen: Seen[] = [];
    connections.push(seen);
    client.on("error", () => undefined);
    client.on("authentication", (ctx: AuthContext) => {
      if (ctx.method !== "publickey") {
        seen.push("other");
        return ctx.reject(["publickey"]);
      }
      seen.push(ctx.signature === undefined ? "query" : "signed");
      if (options.dropEarly === true && seen.length === 1 && ctx.signature !== undefined) return client.end();
      if (!ctx.key.data.equals(acceptedKey.getPublicSSH())) return ctx.reject(["publickey"]);
      if (ctx.signature === undefined) return ctx.accept(); // the query: "this key would do"
      const key = utils.parseKey(accepted.public) as { verify(data: Buffer, signature: Buffer, algo?: string): boolean };
      return key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject(["publickey"]);
    });
  });
  return { server, connections };
}

async function listening(recorder: Recorder): Promise<number> {
  await new Promise<void>((resolve) => recorder.server.listen(0, "127.0.0.1", () => resolve()));
  return (recorder.server.address() as net.AddressInfo).port;
}

const close = (recorder: Recorder) => new Promise<void>((resolve) => recorder.server.close(() => resolve()));

const spec = (port: number, privateKeyPath: string, extra: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
  host: "127.0.0.1",
  port,
  user: "deploy",
  privateKeyPath,
  useAgent: false,
  hostKey: hostPin,
  connectTimeoutSeconds: 5,
  ...extra,
});

async function connectAndRun(connection: ConnectionSpec, env: NodeJS.ProcessEnv, warn: (line: string) => void = () => undefined): Promise<void> {
  const session = await HostSession.open(connection, { ...env, WEBSHARE_SSH_AGENT: "off" }, warn);
  session.dispose();
}

test("the key's signed request is the first and only one: no query first", async () => {
  const recorder = recordingServer();
  const port = await listening(recorder);
  try {
    await connectAndRun(spec(port, acceptedFile), process.env);
    await connectAndRun(spec(port, acceptedFile), { ...process.env, [LOGIN_AHEAD_ENV]: "off" });
  } finally {
    await close(recorder);
  }
  expect(recorder.connections).toEqual([["signed"], ["query", "signed"]]);
});

test("a refused early login fails as ssh2's own does, with nothing tried twice", async () => {
  const recorder = recordingServer();
  const port = await listening(recorder);
  const lines: string[] = [];
  try {
    await expect(connectAndRun(spec(port, strangerFile, { connectAttempts: 1 }), process.env, (l) => lines.push(l))).rejects.toThrow(
      `cannot connect to deploy@127.0.0.1:${port}: All configured authentication methods failed`,
    );
  } finally {
    await close(recorder);
  }
  expect(recorder.connections).toEqual([["signed"]]);
  expect(lines).toEqual([]);
});

test("a server that drops the early login: the next try logs in the usual way, and says so", async () => {
  const recorder = recordingServer({ dropEarly: true });
  const port = await listening(recorder);
  const lines: string[] = [];
  try {
    await connectAndRun(spec(port, acceptedFile), process.env, (l) => lines.push(l));
  } finally {
    await close(recorder);
  }
  expect(recorder.connections).toEqual([["signed"], ["query", "signed"]]);
  expect(lines).toEqual([
    expect.stringMatching(
      new RegExp(`^\\[connect\\] deploy@127\\.0\\.0\\.1:${port}: the connection ended before the server answered the early key login \\(.+\\); logging in again the usual way \\(WEBSHARE_SSH_LOGIN_AHEAD=off always does\\)$`),
    ),
  ]);
});

test("the signed request goes out only after the host key was verified: a host that fails its pin sees none", async () => {
  const recorder = recordingServer();
  const port = await listening(recorder);
  try {
    await expect(connectAndRun(spec(port, acceptedFile, { hostKey: "SHA256:" + "W".repeat(43), connectAttempts: 1 }), process.env)).rejects.toThrow(/host key verification failed/);
  } finally {
    await close(recorder);
  }
  expect(recorder.connections).toEqual([[]]);
});

test("a key with a passphrase logs in early too; RSA keys and unreadable keys are left to ssh2", () => {
  const protectedPair = utils.generateKeyPairSync("ed25519", { passphrase: "correct horse", cipher: "aes256-ctr", rounds: 4 });
  expect(loginAhead("deploy", protectedPair.private, "correct horse", [])).toBeDefined();
  expect(loginAhead("deploy", protectedPair.private, "wrong", [])).toBeUndefined(); // ssh2 then names the bad passphrase
  expect(loginAhead("deploy", utils.generateKeyPairSync("rsa", { bits: 2048 }).private, undefined, [])).toBeUndefined();
  expect(loginAhead("deploy", "not a key", undefined, [])).toBeUndefined();
});
