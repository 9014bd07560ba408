import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startBroker } from "../../lib/ssh/broker";
import { BROKER_ENV } from "../../lib/ssh/broker-protocol";
import { openSession } from "../../lib/ssh/broker-client";
import { provisionServer } from "../../lib/host/provision-serve";
import { RUN_DIR_VARIABLE } from "../../lib/cdktf/run-dir";
import { renderOwner } from "../../lib/lifecycle/lock-owner";
import { quote } from "../../lib/shell";
import type { ConnectionSpec } from "../../lib/spec";
import { localHost, REPO, Target } from "../support/local-host";
import { venvDestroyUnit } from "../support/venv-unit";

/**
 * The provisioner as a thin client of the deploy process (issue 17): `webshare provision`
 * processes under a broker that runs units print the same lines and exit with the same
 * codes as the full provisioner, while the unit runs in the broker's process; a broker that
 * is gone or does not run units (an older one) makes them run the unit themselves.
 * (The whole `webshare deploy` through it: webshare-deploy.test.ts.)
 */
let target: Target;
let connection: ConnectionSpec;
const children: ChildProcess[] = [];
const place = () => ({ unit: "test/thin", target: `${target.user}@${target.host}:${target.port}` });

/** `webshare provision <action>` with `env`, started without blocking this process (the broker may live in it). */
function startProvision(action: string, env: NodeJS.ProcessEnv): { child: ChildProcess; printed(text: string): Promise<void>; done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, [path.join(REPO, "dist/lib/cli/main.js"), "provision", action], { env, cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  const waiters: (() => void)[] = [];
  const add = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    waiters.forEach((w) => w());
  };
  child.stdout!.on("data", add);
  child.stderr!.on("data", add);
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on("close", (code) => resolve({ code, output })));
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => output.includes(text) && resolve();
      waiters.push(check);
      check();
      void done.then(() => reject(new Error(`it exited without printing ${JSON.stringify(text)}:\n${output}`)));
    });
  return { child, printed, done };
}

const provisionProcess = (action: string, env: NodeJS.ProcessEnv) => startProvision(action, env).done;

/** A deployed venv's destroy (its dirs are made first), as a provisioner gets it in WEBSHARE_UNIT. */
function venvDestroy(i: number): NodeJS.ProcessEnv {
  const unit = venvDestroyUnit(target, connection, `test/thin-venv-${i}`, `thin-test-${i}`);
  return { WEBSHARE_UNIT: JSON.stringify(unit), WEBSHARE_INSTANCE: `instance-${i}` };
}

/** What a unit that cannot even be read prints (no host needed). */
const unreadable = { WEBSHARE_UNIT: "{}", WEBSHARE_INSTANCE: "instance-x" };

/** Remove what a run of these tests may leave on the host (a held lock, the venv dirs). */
async function cleanHost(): Promise<void> {
  const { [BROKER_ENV]: _socket, ...direct } = process.env;
  const session = await openSession(connection, direct);
  try {
    await session.run(place(), "clean up", "rm -rf .webshare/lock thin-test-1 thin-test-2 thin-test-3 thin-test-4");
  } finally {
    session.dispose();
  }
}

beforeAll(async () => {
  target = localHost().managed;
  connection = { host: target.host, port: target.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10 };
  await cleanHost();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await cleanHost();
});

test("under a broker that runs units: the same lines and exit codes as the full provisioner, the units run in the broker", async () => {
  const provisions = provisionServer();
  const broker = await startBroker({ env: process.env, provisions });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-run-"));
  try {
    const setup = await openSession(connection, { ...process.env, ...broker.env });
    await setup.run(place(), "prepare", "mkdir -p thin-test-1/private/venvs thin-test-2/private/venvs");
    setup.dispose();
    const env: NodeJS.ProcessEnv = { ...process.env, ...broker.env, [RUN_DIR_VARIABLE]: runDir };
    const runs = await Promise.all([1, 2].map((i) => provisionProcess("destroy", { ...env, ...venvDestroy(i) })));
    runs.forEach((run, i) => {
      expect(run.code).toBe(0);
      expect(run.output).toContain(`[test/thin-venv-${i + 1}] connect (${place().target}, shared connection) `);
      expect(run.output).toContain(`[test/thin-venv-${i + 1}] remove venv `);
      expect(run.output).toMatch(new RegExp(`\\[test/thin-venv-${i + 1}\\] done: \\d+ remote commands?, \\d+ file transfers? over the shared connection`));
    });
    expect(provisions.unitsRun()).toBe(2);
    // Each provisioner unmarked itself from the run directory when its unit ended.
    expect(fs.readdirSync(runDir)).toEqual([]);

    // A unit that fails: the same failure line and exit code as a provisioner that runs it itself.
    const thin = await provisionProcess("destroy", { ...env, ...unreadable });
    const { [BROKER_ENV]: _socket, ...noBroker } = env;
    const full = await provisionProcess("destroy", { ...noBroker, ...unreadable });
    expect(provisions.unitsRun()).toBe(3);
    expect(full.code).toBe(1);
    expect(full.output).toMatch(/^webshare: /);
    expect(thin).toEqual(full);
  } finally {
    await broker.close();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});

test("a thin provisioner killed (SIGKILL) while its unit waits for the host lock: the deploy process stops the unit, which leaves no lock", async () => {
  const provisions = provisionServer();
  const broker = await startBroker({ env: process.env, provisions });
  const { [BROKER_ENV]: _socket, ...direct } = process.env;
  const setup = await openSession(connection, direct);
  try {
    // Someone else (this live process) holds the host lock.
    const holder = renderOwner({ user: os.userInfo().username, machine: os.hostname(), pid: process.pid, unit: "test/holder", startedAt: new Date().toISOString(), token: "thin-test-holder" });
    await setup.run(place(), "hold the host lock", `mkdir -p thin-test-4/private/venvs .webshare/lock && printf '%s' ${quote(holder)} > .webshare/lock/owner`);
    const killed = startProvision("destroy", { ...process.env, ...broker.env, ...venvDestroy(4) });
    await killed.printed("[test/thin-venv-4] waiting for the host lock held by ");
    killed.child.kill("SIGKILL");
    await killed.done;
    await provisions.drain(30_000); // the interrupted unit's cleanup
    expect(provisions.unitsRun()).toBe(1);
    expect(fs.readFileSync(path.join(target.home, ".webshare/lock/owner"), "utf8")).toBe(holder);
    expect(fs.existsSync(path.join(target.home, ".webshare/locks"))).toBe(false);

    // Once the holder is done, nothing of the killed unit waits on: the next run takes the lock at once.
    await setup.run(place(), "release the host lock", "rm -rf .webshare/lock");
    const next = await provisionProcess("destroy", { ...direct, ...venvDestroy(4) });
    expect(next.code).toBe(0);
    expect(next.output).not.toContain("waiting for");
    expect(next.output).toContain("[test/thin-venv-4] remove venv ");
  } finally {
    setup.dispose();
    await broker.close();
  }
});

test("a broker that does not run units (an older one closes the socket) or is gone: the provisioner runs its unit itself", async () => {
  const { [BROKER_ENV]: _socket, ...env } = process.env;
  const direct = await provisionProcess("destroy", { ...env, ...unreadable });
  expect(direct.code).toBe(1);

  // An older broker does not know "provision": it drops the client without a reply.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-old-broker-"));
  const socketPath = path.join(dir, "ssh.sock");
  const old = net.createServer((socket) => socket.once("data", () => socket.destroy()));
  await new Promise<void>((resolve) => old.listen(socketPath, resolve));
  try {
    expect(await provisionProcess("destroy", { ...env, [BROKER_ENV]: socketPath, ...unreadable })).toEqual(direct);
  } finally {
    await new Promise((resolve) => old.close(resolve));
  }
  // A broker without units: it declines.
  const plain = await startBroker({ env: process.env });
  try {
    expect(await provisionProcess("destroy", { ...env, ...plain.env, ...unreadable })).toEqual(direct);
  } finally {
    await plain.close();
  }
  // Gone: the full provisioner's notice when its session cannot use the broker either.
  const gone = path.join(dir, "gone.sock");
  const setup = await openSession(connection, env);
  await setup.run(place(), "prepare", "mkdir -p thin-test-3/private/venvs");
  setup.dispose();
  const run = await provisionProcess("destroy", { ...env, [BROKER_ENV]: gone, ...venvDestroy(3) });
  expect(run.code).toBe(0);
  expect(run.output).toContain(`webshare: the SSH connection broker (${gone}) is not reachable (ENOENT); connecting to ${place().target} directly`);
  expect(run.output).toContain(`[test/thin-venv-3] done: `);
  fs.rmSync(dir, { recursive: true, force: true });
});
