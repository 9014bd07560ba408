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

/** `webshare provision <action>` with `env`, run to its end without blocking this process (the broker may live in it). */
function provisionProcess(action: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(REPO, "dist/lib/cli/main.js"), "provision", action], { env, cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

/** A deployed venv's destroy (its dirs are made first), as a provisioner gets it in WEBSHARE_UNIT. */
function venvDestroy(i: number): NodeJS.ProcessEnv {
  const unit = venvDestroyUnit(target, connection, `test/thin-venv-${i}`, `thin-test-${i}`);
  return { WEBSHARE_UNIT: JSON.stringify(unit), WEBSHARE_INSTANCE: `instance-${i}` };
}

/** What a unit that cannot even be read prints (no host needed). */
const unreadable = { WEBSHARE_UNIT: "{}", WEBSHARE_INSTANCE: "instance-x" };

beforeAll(() => {
  target = localHost().managed;
  connection = { host: target.host, port: target.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10 };
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
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
