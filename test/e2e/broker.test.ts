import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errors } from "../../lib/errors";
import { Broker, startBroker } from "../../lib/ssh/broker";
import { BROKER_ENV } from "../../lib/ssh/broker-protocol";
import { isShared, openSession } from "../../lib/ssh/broker-client";
import { HostSession } from "../../lib/ssh/session";
import type { RemoteSession } from "../../lib/ssh/remote-session";
import type { ConnectionSpec } from "../../lib/spec";
import { HOST_KEY_INSECURE_ACCEPT_ANY_VALUE } from "../../lib/ssh/insecure";
import { HOST_DIR, localHost, REPO, Target } from "../support/local-host";
import { failureText } from "../support/failure-text";
import { processes, waitForProcess } from "../support/host-processes";
import { venvDestroyUnit } from "../support/venv-unit";

/**
 * The connection broker against the real local sshd: many clients (in this process and in
 * child processes, as tofu's provisioners are) share one login; errors read exactly as a
 * direct session's; a killed client or a dropped connection hurts no one else; after close
 * a client connects directly. Logins are counted in sshd's own log.
 */
let target: Target;
let connection: ConnectionSpec;
let uid: number;
let broker: Broker;
let brokerEnv: NodeJS.ProcessEnv;
const brokerWarnings: string[] = [];
const children: ChildProcess[] = [];
const place = () => ({ unit: "test/broker", target: `${target.user}@${target.host}:${target.port}` });

function logins(): number {
  const log = fs.readFileSync(path.join(HOST_DIR, "sshd", "sshd.log"), "utf8");
  return log.split("\n").filter((line) => line.includes(`Accepted publickey for ${target.user} `)).length;
}

async function waitForGone(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processes((p) => p.pid === pid).length > 0) {
    if (Date.now() > deadline) throw new Error(`remote process ${pid} still runs`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Run a command to its end without blocking this process (the broker lives in it). */
function spawnSync(command: string, args: string[], options: { env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

/** Run the stand-in provisioner; resolves with its lines once it exits. */
function client(command: string, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<string[]> } {
  const child = spawn(process.execPath, [path.join(REPO, "dist/test/support/broker-client.js"), command], {
    env: { ...env, BROKER_TEST_CONNECTION: JSON.stringify(connection) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const done = new Promise<string[]>((resolve) => child.on("close", () => resolve(out.trim().split("\n"))));
  return { child, done };
}

beforeAll(async () => {
  target = localHost().managed;
  connection = { host: target.host, port: target.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10 };
  uid = Number(execFileSync("id", ["-u", target.user], { encoding: "utf8" }).trim());
  broker = await startBroker({ env: process.env, warn: (line) => brokerWarnings.push(line) });
  brokerEnv = { ...process.env, ...broker.env };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  // A dropped connection leaves its command running on the host (no tty, no SIGHUP).
  for (const p of processes((p) => p.uid === uid && p.cmdline === "sleep 30")) process.kill(p.pid, "SIGKILL");
  await broker.close();
});

test("clients in this process and in child processes share one SSH login", async () => {
  const before = logins();
  const dir = `${target.home}/broker-test`;
  const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "broker-test-")), "upload.txt");
  fs.writeFileSync(local, "uploaded\n");

  const spawned = [1, 2].map((i) => client(`echo child-${i}`, brokerEnv));
  const sessions = await Promise.all([1, 2, 3].map(() => openSession(connection, brokerEnv)));
  try {
    await sessions[0]!.run(place(), "prepare", `mkdir -p ${dir}`);
    // 12 commands at once from three clients (more than the broker's 8 channels), plus two writes and a command with files.
    const outputs = await Promise.all(sessions.flatMap((s, i) => [1, 2, 3, 4].map((j) => s.run(place(), "echo", `echo ${i}-${j}`))));
    const [, , built] = await Promise.all([
      sessions[1]!.writeFileAtomic(place(), "write", `${dir}/written.bin`, Buffer.from([0, 1, 2, 255])),
      sessions[2]!.putFiles(place(), "upload", [{ local, remote: `${dir}/upload.txt` }, { remote: `${dir}/generated.txt`, content: Buffer.from(" generated ü") }]),
      sessions[0]!.runWithFiles(place(), "build", { before: `mkdir -p ${dir}/built`, files: [{ remote: `${dir}/built/secret`, content: "s ü\n", mode: 0o600, atomic: true }], script: `cat; stat -c '%a' ${dir}/built/secret; exit 4`, stdin: "in\n" }),
    ]);
    expect(built).toEqual({ stdout: "in\n600\n", stderr: "", code: 4 });
    const read = await sessions[0]!.run(place(), "read back", `od -An -tx1 ${dir}/written.bin; cat ${dir}/upload.txt ${dir}/generated.txt; rm -rf ${dir}`);

    expect(outputs.map((o) => o.stdout.trim())).toEqual(["0-1", "0-2", "0-3", "0-4", "1-1", "1-2", "1-3", "1-4", "2-1", "2-2", "2-3", "2-4"]);
    expect(read.stdout.replace(/\s+/g, " ").trim()).toBe("00 01 02 ff uploaded generated ü");
    expect(sessions.every(isShared)).toBe(true);
    expect(sessions[0]!.hostKey).toBe(target.hostKey);
    const results = await Promise.all(spawned.map((s) => s.done));
    expect(results).toEqual([1, 2].map((i) => ["opened", JSON.stringify({ shared: true, stdout: `child-${i}\n` })]));
  } finally {
    sessions.forEach((s) => s.dispose());
  }
  expect(logins() - before).toBe(1);
  expect(broker.connectionsOpened()).toBe(1);
});

test("real provisioner processes (webshare provision destroy) reuse the broker's connection and take the host lock over it", async () => {
  // What a deployed venv leaves: destroy removes its dirs and their parent if empty.
  const setup = await openSession(connection, brokerEnv);
  await setup.run(place(), "prepare", "mkdir -p broker-test-1/private/venvs broker-test-2/private/venvs broker-test-3/private/venvs");
  const before = logins();
  // This broker runs no units, so each runs its own (as under an older broker); thin-provision.test.ts has the other case.
  const runs = [1, 2, 3].map((i) => {
    const unit = venvDestroyUnit(target, connection, `test/broker-venv-${i}`, `broker-test-${i}`);
    return spawnSync(process.execPath, [path.join(REPO, "dist/lib/cli/main.js"), "provision", "destroy"], {
      env: { ...brokerEnv, WEBSHARE_UNIT: JSON.stringify(unit), WEBSHARE_INSTANCE: `instance-${i}` },
    });
  });
  const outputs = await Promise.all(runs);
  outputs.forEach((run, i) => {
    expect({ code: run.code, output: run.output }).toEqual({ code: 0, output: expect.stringContaining(`[test/broker-venv-${i + 1}] connect (${place().target}, shared connection) `) });
    expect(run.output).toContain(`[test/broker-venv-${i + 1}] remove venv `);
  });
  await setup.run(place(), "clean up", "rm -rf broker-test-1 broker-test-2 broker-test-3");
  setup.dispose();
  expect(logins() - before).toBe(0); // the broker's connection from the test before
  expect(broker.connectionsOpened()).toBe(1);
});

test("a host key mismatch through the broker reads exactly as a direct one", async () => {
  const wrong = { ...connection, hostKey: "SHA256:" + "C".repeat(43) };
  const direct = await failureText(() => HostSession.open(wrong, process.env));
  const notices: string[] = [];
  const brokered = await failureText(() => openSession(wrong, brokerEnv, (l) => notices.push(l)));
  expect(brokered).toBe(direct);
  expect(brokered).toContain("host key verification failed");
  expect(notices).toEqual([]); // a real error, not a fallback
});

test("the host-key opt-out warns every client, as it warns every direct connection", async () => {
  const insecure = { ...connection, hostKey: HOST_KEY_INSECURE_ACCEPT_ANY_VALUE };
  const direct: string[] = [];
  (await HostSession.open(insecure, process.env, (l) => direct.push(l))).dispose();
  const brokered: string[][] = [[], []];
  for (const lines of brokered) (await openSession(insecure, brokerEnv, (l) => lines.push(l))).dispose();
  expect(direct).toHaveLength(1);
  expect(brokered).toEqual([direct, direct]);
});

test("a failing remote command reads exactly as a direct one", async () => {
  const script = "echo out; echo err >&2; exit 3";
  const direct = await HostSession.open(connection, process.env);
  const brokered = await openSession(connection, brokerEnv);
  try {
    const expected = await failureText(() => direct.run(place(), "fail on purpose", script));
    expect(await failureText(() => brokered.run(place(), "fail on purpose", script))).toBe(expected);
    expect(expected).toContain("exit 3");
    expect(await brokered.runRaw(place(), "fail on purpose", script)).toEqual(await direct.runRaw(place(), "fail on purpose", script));
  } finally {
    direct.dispose();
    brokered.dispose();
  }
  // After dispose (what an interrupt does before releasing the lock over a fresh connection).
  const afterDispose = await failureText(() => direct.run(place(), "release host lock", "true"));
  expect(afterDispose).toBe(errors.connectionLost(place(), "release host lock").render());
  expect(await failureText(() => brokered.run(place(), "release host lock", "true"))).toBe(afterDispose);
});

test("a client killed mid-command leaves the broker serving the others", async () => {
  const opened = broker.connectionsOpened();
  const other = await openSession(connection, brokerEnv);
  try {
    // It writes until its output closes: it ends once the broker closes its channel, as it
    // would when a direct client's connection ends.
    const ticking = "while echo tick; do sleep 0.2; done";
    const victim = client(ticking, brokerEnv);
    const remote = await waitForProcess((p) => p.uid === uid && p.cmdline.endsWith(ticking), "the killed client's remote command", 10_000);
    const during = other.run(place(), "meanwhile", "sleep 0.5; echo alive");
    victim.child.kill("SIGKILL");
    await victim.done;
    expect((await during).stdout).toBe("alive\n");
    await waitForGone(remote.pid);
    expect((await other.run(place(), "after", "echo still")).stdout).toBe("still\n");
    const fresh = await openSession(connection, brokerEnv);
    expect((await fresh.run(place(), "new client", "echo new")).stdout).toBe("new\n");
    fresh.dispose();
    expect(broker.connectionsOpened()).toBe(opened);
    expect(brokerWarnings).toEqual([]);
  } finally {
    other.dispose();
  }
});

test("a dropped shared connection fails its commands as a direct one would; new clients get a new connection", async () => {
  const opened = broker.connectionsOpened();
  const session = await openSession(connection, brokerEnv);
  const running = failureText(() => session.run(place(), "long step", "sleep 30"));
  await waitForProcess((p) => p.uid === uid && p.cmdline === "sleep 30", "the long command", 10_000);
  for (const s of processes((p) => p.uid === uid && p.comm === "sshd")) process.kill(s.pid, "SIGKILL"); // the host drops it
  expect(await running).toBe(errors.connectionLost(place(), "long step").render());
  // Bound to the dropped connection, like a direct session: no silent continuation on a new one.
  expect(await failureText(() => session.run(place(), "next step", "true"))).toBe(errors.connectionLost(place(), "next step").render());
  session.dispose();

  const before = logins();
  const reopened = await openSession(connection, brokerEnv);
  expect((await reopened.run(place(), "after the drop", "echo back")).stdout).toBe("back\n");
  reopened.dispose();
  expect(broker.connectionsOpened()).toBe(opened + 1);
  expect(logins() - before).toBe(1);
});

test("after close the socket dir is gone and a client connects directly, with one notice", async () => {
  const socketPath = broker.env[BROKER_ENV]!;
  expect(fs.statSync(path.dirname(socketPath)).mode & 0o777).toBe(0o700);
  await broker.close();
  expect(fs.existsSync(path.dirname(socketPath))).toBe(false);

  const notices: string[] = [];
  const before = logins();
  const session: RemoteSession = await openSession(connection, brokerEnv, (l) => notices.push(l));
  try {
    expect(isShared(session)).toBe(false);
    expect((await session.run(place(), "direct", "echo direct")).stdout).toBe("direct\n");
  } finally {
    session.dispose();
  }
  expect(notices).toEqual([`webshare: the SSH connection broker (${socketPath}) is not reachable (ENOENT); connecting to ${place().target} directly`]);
  expect(logins() - before).toBe(1);
});
