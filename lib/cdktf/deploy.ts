import { plural } from "../plural";
import { errors } from "../errors";
import { readCdktfProject, readStack, SynthesizedStack } from "./project";
import { synthesize } from "./synth";
import { absoluteEngine, engineBinary, engineColorArgs, engineSource, engineUnrunnable } from "./engine";
import { exitText, runLocal } from "../local-process";
import { RUN_DIR_VARIABLE, waitUntilIdle } from "./run-dir";
import type { Broker } from "../ssh/broker";
import { readPreviousSynth } from "./previous-synth";
import { stableStringify } from "../hash";
import type { ConnectionSpec } from "../spec";
import { EngineOptions, engineOptionArgs } from "./engine-options";
import { stateLockConflict } from "./state-lock";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * What `webshare deploy [stack]` runs: what `cdktf deploy` does for a webshare stack (synth,
 * then the engine's init, plan and apply in the stack's directory, same state, same
 * provisioners), without the cdktf CLI's own start-up (~3 s of every deploy here; see
 * docs/benchmarks.md). The engine's state-lock conflicts are named; an interrupt waits for
 * the provisioners to release the host lock.
 */
export interface DeployOptions extends EngineOptions {
  readonly autoApprove?: boolean;
  readonly engine?: string;
}

export interface DeployIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Ask the user one question and return the answer ("" when there is no input). */
  readonly ask: (question: string) => Promise<string>;
  /** Whether the engine's output goes to a terminal (then it keeps its colours unless NO_COLOR is set). @default false */
  readonly terminal?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

export async function deployStack(stackName: string | undefined, options: DeployOptions, io: DeployIo): Promise<number> {
  const started = performance.now();
  const project = readCdktfProject(io.cwd);
  engineOptionArgs(options); // refuse bad options before the synth
  const binary = absoluteEngine(engineBinary(io.env, options.engine), io.cwd);
  const unrunnable = engineUnrunnable(binary, io.env);
  if (unrunnable !== undefined) throw errors.engineUnrunnable(binary, engineSource(io.env, options.engine), unrunnable);
  // The synth's engine check and the deploy must use the same engine.
  const env = { ...io.env, TERRAFORM_BINARY_NAME: binary };

  // Read before the synth overwrites it: the early guess below compares the working tree with it.
  const previous = options.autoApprove === true && (options.target ?? []).length === 0 ? readPreviousSynth(project.outdir, stackName, env) : undefined;
  let step = performance.now();
  const synthesized = synthesize(project.app, io.cwd, env, project.outdir);
  synthesized.catch(() => undefined); // awaited below, after the broker started
  // Loaded only now, while the app synthesizes in its own process: SSH, the lifecycle and
  // the spec's schema are about 0.13 s of CPU, no longer in front of the synth. The guess
  // from the last synth needs only the schema: the TCP connections to the hosts it names
  // open before SSH and the unit server load (lib/ssh/early-sockets.ts).
  const { hostsWithChangedInputs, openEarlySockets, predictChangedHosts } = load<typeof import("./preconnect")>("./preconnect");
  const changedSinceLastSynth = previous !== undefined ? hostsWithChangedInputs(previous, io.cwd) : [];
  const earlySockets = openEarlySockets(changedSinceLastSynth, io.env);
  const { startBroker } = load<typeof import("../ssh/broker")>("../ssh/broker");
  const { provisionServer } = load<typeof import("../host/provision-serve")>("../host/provision-serve");
  const { targetOf } = load<typeof import("../ssh/session")>("../ssh/session");

  // All provisioners of this apply share one SSH connection per host through the broker, and
  // run their units in this process (host/provision-serve.ts). Without it (say, no writable
  // temp dir) each provisioner runs its unit and connects on its own, as under cdktf.
  const provisions = provisionServer();
  const broker = await startBroker({ env: io.env, warn: io.log, provisions, earlySockets }).catch((e: Error) => {
    io.log(`webshare deploy: no shared SSH connection (${e.message}); each unit connects on its own`);
    return undefined;
  });
  // Hosts whose units will change connect while the app synthesizes and the engine inits and
  // plans (lib/cdktf/preconnect.ts); only when nothing asks first (auto-approve) and no
  // -target narrows the plan. Each host is named (and connected) once.
  const connecting = new Set<string>();
  const connect = (hosts: readonly ConnectionSpec[], why: string) => {
    const fresh = hosts.filter((h) => !connecting.has(stableStringify(h)));
    if (broker === undefined || fresh.length === 0) return;
    fresh.forEach((h) => connecting.add(stableStringify(h)));
    io.log(`webshare deploy: connecting to ${fresh.map(targetOf).join(", ")} ${why}`);
    broker.preconnect(fresh);
  };
  connect(changedSinceLastSynth, "while the app synthesizes (files there differ from the last synth)");
  // Each connection took its socket as it started; one left over has no use.
  earlySockets.close();
  let stack: SynthesizedStack;
  try {
    await synthesized;
    stack = readStack(project.outdir, stackName);
  } catch (e) {
    await broker?.close();
    throw e;
  }
  io.log(`webshare deploy: synthesized ${stack.name} with ${JSON.stringify(project.app)} ${seconds(step)}`);
  const preconnect = () => {
    if ((options.target ?? []).length > 0) return;
    connect(predictChangedHosts(stack.name, stack.workingDirectory, env), "ahead of the engine (units there differ from the state)");
  };
  if (options.autoApprove === true) preconnect();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-run-"));
  try {
    step = performance.now();
    const init = await runLocal(binary, ["init", "-input=false", "-no-color"], { cwd: stack.workingDirectory, env, passThrough: false });
    if (init.code !== 0) throw errors.engineFailed(binary, "init", exitText(init.code), init.output);
    io.log(`webshare deploy: ${binary} init ${seconds(step)}`);
    return await planAndApply(binary, stack, env, runDir, options, io, started, { broker, preconnect, unitsRun: () => provisions.unitsRun() });
  } finally {
    await broker?.close();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * Without --auto-approve: `plan -out` (the user reads it), nothing to do when it has no
 * changes, else ask, then apply exactly that plan. With it: one `apply -auto-approve`.
 */
/** The broker of the run (if it started), the pre-connect to call once nothing asks any more, and the count of units it ran. */
interface RunBroker {
  readonly broker: Broker | undefined;
  readonly preconnect: () => void;
  readonly unitsRun: () => number;
}

async function planAndApply(binary: string, stack: SynthesizedStack, env: NodeJS.ProcessEnv, runDir: string, options: DeployOptions, io: DeployIo, started: number, run: RunBroker): Promise<number> {
  const { broker, preconnect } = run;
  const color = engineColorArgs(io.terminal, env);
  const passed = engineOptionArgs(options);
  const lockFailure = (step: string, output: string) => {
    const lock = stateLockConflict(output);
    return lock === undefined ? undefined : errors.stateLocked(binary, step, stack.workingDirectory, lock, options.lockTimeout);
  };
  let applyArgs = ["apply", "-auto-approve", "-input=false", ...color, ...passed.apply];
  if (options.autoApprove !== true) {
    const planFile = path.join(runDir, "plan");
    const planned = await runUntilDone(binary, ["plan", "-input=false", "-detailed-exitcode", `-out=${planFile}`, ...color, ...passed.plan], stack.workingDirectory, env);
    if (planned.signal !== undefined) throw errors.deployInterrupted(planned.signal);
    if (planned.code !== 0 && planned.code !== 2) throw lockFailure("plan", planned.output) ?? errors.engineFailed(binary, "plan", exitText(planned.code), "");
    if (planned.code === 0) {
      io.log(`webshare deploy: ${stack.name} has no changes: nothing to apply`);
      return 0;
    }
    const answer = await io.ask("Apply these changes? Only 'yes' applies them: ");
    if (answer.trim() !== "yes") throw errors.deployCancelled();
    preconnect();
    applyArgs = ["apply", "-input=false", ...color, ...passed.applyPlanFile, planFile];
  }

  const step = performance.now();
  const applied = await runUntilDone(binary, applyArgs, stack.workingDirectory, { ...env, ...broker?.env, [RUN_DIR_VARIABLE]: runDir });
  if (applied.signal !== undefined) await waitForProvisioners(runDir, io.log);
  const shared = broker && `; ${plural(broker.connectionsOpened(), "SSH connection")}; ${plural(run.unitsRun(), "unit")} run in this process`;
  if (applied.signal !== undefined) throw errors.deployInterrupted(applied.signal);
  if (applied.code !== 0) throw lockFailure("apply", applied.output) ?? errors.engineFailed(binary, "apply", exitText(applied.code), "");
  io.log(`webshare deploy: ${stack.name} applied ${seconds(step)} (total ${seconds(started)}${shared ?? ""})`);
  return 0;
}

/** After an interrupt: the engine has exited, but provisioners may still be releasing the host lock. */
async function waitForProvisioners(runDir: string, log: (line: string) => void): Promise<void> {
  let left = await waitUntilIdle(runDir, 0);
  if (left.length === 0) return;
  log(`webshare deploy: waiting for ${plural(left.length, "provisioner")} to stop and release the host lock (pid ${left.join(", ")})`);
  left = await waitUntilIdle(runDir, 30_000);
  if (left.length > 0) log(`webshare deploy: ${left.length === 1 ? "provisioner" : "provisioners"} ${left.join(", ")} still running after 30s; if a host stays locked, see webshare host-lock`);
}

/**
 * Run the engine (plan, apply) and stay alive until it ends, whatever signal comes: Ctrl+C
 * reaches the engine (same process group) and it stops its provisioners gracefully, which
 * release the host lock; exiting first would orphan them. SIGTERM/SIGHUP sent to this
 * process alone are passed on to the engine.
 */
async function runUntilDone(binary: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | string; signal?: string; output: string }> {
  let signal: string | undefined;
  let stop: ((s: NodeJS.Signals) => void) | undefined;
  const onInt = () => (signal ??= "SIGINT");
  const onTerm = (s: NodeJS.Signals) => {
    signal ??= s;
    stop?.("SIGTERM");
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  process.on("SIGHUP", onTerm);
  try {
    // Shown live and kept (its tail), so a state-lock conflict can be named afterwards.
    const run = await runLocal(binary, args, { cwd, env, passThrough: "tee", onStart: (s) => (stop = s) });
    return { code: run.code, signal, output: run.output };
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    process.off("SIGHUP", onTerm);
  }
}
