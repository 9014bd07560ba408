import * as fs from "node:fs";
import * as path from "node:path";
import type { UnitSpec, VenvRemovalSpec, VenvUnitSpec } from "../spec";
import { allOf, commandLine, quote } from "../shell";
import { contentId } from "../hash";
import { splitParts } from "../split-parts";
import { errors } from "../errors";
import { plural } from "../plural";
import { abs, StepContext, stepFailed, unitRecordPath, UnitRecord } from "./context";
import { assertMatchesModWsgi, parseProbe, probeScript, ProbeResult as PythonProbe } from "./python-probe";
import { majorMinor } from "../python-compat";
import { linkNamesScript, pruneScript, readLinkScript, removeIfEmpty, stdinToFileScript, textToFileScript } from "./switch";
import { recordPidAndRun, stopOrphanScript } from "./build-guard";
import { VENV_REQUIREMENTS_COPY } from "./kept";
import { rebuildId } from "./rebuild";
import { hostSeedsDir, hostUnitsDir, pipScriptNames, pipSeedDir, readySeedsScript, removeSeedsScript, SEED_BUILT, seededVenvScript } from "./pip-seed";
import { unitLockDir, unitLocksDir } from "./host-lock";
import { venvDirsScript } from "./modes";
import { hostWheelhouse, pipCommand, pipSourceArgs, uploadWheelhouse, wheelhouseListingScript } from "./pip";
import { freezeScript } from "./freeze-record";
import { VenvInputs, venvAsPlanned } from "./as-planned";
import { lastVerifiedScript, parseLastVerified, refuseOlderCheckout, restartWedged, Switchover, switchBackId, switchVerifyRevert, touchedSet, VENV_FREEZE_RECORD, venvSwitchScript, verifyVenv } from "./unit-switch";
import { commitToRecord, RecordedSource } from "../checkout";
import { loggedScript, remoteLastLine } from "./remote-log";
import { parseStaged, type Stage, type StagedResult, type StageOutput, stagedScript } from "./staged-script";
import type { ExecResult } from "../ssh/remote-session";
import { recordOwnership } from "./inventory";

/**
 * Venv lifecycle. Create: check the inputs against the plan and the interpreter against
 * mod_wsgi's Python, build a NEW venv in its own content-addressed directory at its final
 * path (venvs are not relocatable) while the old one keeps serving, record `pip freeze
 * --local`, then switch -> verify -> revert, record, prune. Same inputs -> same directory,
 * so going back to an earlier lock switches without rebuilding.
 */

export interface DeployVenvOptions {
  /** Build a fresh venv even though one for these inputs exists: that one drifted (drift --fix). */
  readonly forceRebuild?: boolean;
  /** How an input that differs from the spec is reported (drift --fix: "since the synth"). */
  readonly changedError?: Parameters<typeof venvAsPlanned>[2];
}

/** Where this deploy's venv lives on the host (pure: ids and paths). */
interface VenvTarget {
  /** Content id of the inputs; the venv id unless a drifted venv is rebuilt beside it. */
  readonly inputsId: string;
  readonly venvId: string;
  readonly venvsDir: string;
  readonly venvDir: string;
}

/** What the host has before the switch. */
interface VenvState {
  /** Target of the venv link before this deploy ("" when there was none). */
  readonly previousTarget: string;
  /** The unit record's last verified venv id, when that venv is still ready. */
  readonly lastVerified?: string;
  /** The recorded freeze when a venv for these inputs is already built and ready. */
  readonly builtFreeze?: string;
  /** What the unit record says the live venv was deployed from. */
  readonly recorded: RecordedSource;
}

export async function deployVenv(ctx: StepContext, spec: VenvUnitSpec, options: DeployVenvOptions = {}): Promise<void> {
  const inputs = venvAsPlanned(ctx, spec, options.changedError);
  const { probe, read } = await checkPython(ctx, spec);
  const target = venvTarget(spec, probe, options);
  const state = venvState(ctx, read, target);
  refuseOlderCheckout(ctx, state.recorded, "venv", target.venvId, path.posix.basename(state.previousTarget) || undefined);
  // Steps that must finish before the new venv serves go here. A venv to build takes the
  // switch into the build's last exchange (with the host lock's try in front of it).
  let freeze = state.builtFreeze;
  const build = async (then: Stage | undefined) => {
    const built = await buildVenv(ctx, spec, target, inputs, probe, read, then);
    freeze = built.freeze;
    return built.then;
  };
  await switchVerifyRevert(ctx, venvSwitchover(ctx, spec, target, state, inputs), spec.host, freeze === undefined ? build : undefined);
  if (freeze === undefined) throw new Error("the venv build returned no freeze"); // unreachable: the lead-in ran
  if (options.forceRebuild) await retireDriftedVenv(ctx, spec, target, state);
  if (spec.localFreezeFile !== undefined) fs.writeFileSync(spec.localFreezeFile, freeze);
  await writeUnitRecord(ctx, spec, target.venvId, { recorded: state.recorded, unchanged: path.posix.basename(state.previousTarget) === target.venvId }, pruneScript(spec.host.python, target.venvsDir, `${target.venvsDir}/.history`, target.venvId, spec.keep));
  const count = freeze.trim().split("\n").filter((l) => l !== "").length;
  ctx.progress.info(`venv ready: ${plural(count, "package")} recorded in ${spec.freezePath}${spec.localFreezeFile ? ` and ${spec.localFreezeFile}` : ""}`);
}

/** Where the probe's output ends and the venv state's begins. */
const PROBED = "--webshare-probed--";

/**
 * One round trip: the probe, then (once it ran) what the host has: the dirs the switch writes
 * into, the live link, the last verified venv, the ready pip seeds and the wheels of the
 * host's wheelhouse (what decides whether the build can be one exchange), and every ready
 * venv with its recorded freeze (the venv id needs the probe, so all of them: `keep` bounds
 * how many there are). The interpreter must be the one mod_wsgi runs (and the version the
 * app asks for).
 */
async function checkPython(ctx: StepContext, spec: VenvUnitSpec): Promise<{ probe: PythonProbe; read: VenvRead }> {
  const host = spec.host;
  const venvsDir = abs(host, spec.venvsDir);
  const stateScript =
    `${commandLine(["mkdir", "-p", path.posix.dirname(abs(host, spec.requirementsPath)), path.posix.dirname(abs(host, spec.freezePath))])} && ${venvDirsScript(spec)} && ` +
    `{ ${readLinkScript(abs(host, spec.venvPath))}; echo '--'; ${lastVerifiedScript(unitRecordPath(host, spec.unit), venvsDir)}; echo '--'; ` +
    `${readySeedsScript(hostSeedsDir(host))}; echo '--'; ${wheelNamesScript(spec)}; echo '--'; ${readyVenvsScript(venvsDir)}; }`;
  let read: VenvRead | undefined;
  const probe = await ctx.progress.step("check Python", async () => {
    const result = await ctx.session.runRaw(ctx.place, "check Python", `${probeScript(host)} || exit $?; printf '%s\\n' ${quote(PROBED)}; ${stateScript}`);
    const [probeOut, stateOut = ""] = splitParts(result.stdout, `${PROBED}\n`, 1);
    if (!result.stdout.includes(`${PROBED}\n`)) {
      parseProbe(ctx, host, result); // a probe that did not run: its error
      throw errors.hostAnswerUnreadable(ctx.place, "the venvs on the host", "no end-of-probe line", result.stdout);
    }
    if (result.code !== 0) throw errors.remoteCommandFailed(ctx.place, "look for an existing venv", stateScript, result.code, `${stateOut}\n${result.stderr}`.trim());
    read = parseVenvRead(stateOut);
    return parseProbe(ctx, host, { ...result, stdout: probeOut });
  }, (p) => `(${p.executable} ${p.version}, mod_wsgi: ${p.modWsgi?.libpython ?? "not checked"})`);
  assertMatchesModWsgi(ctx, spec.host, probe);
  if (spec.pythonVersion !== undefined && majorMinor(probe.version) !== spec.pythonVersion) {
    throw errors.pythonMismatch(ctx.place, `the app needs Python ${spec.pythonVersion} (its webshare.json says so), but ${probe.executable} is Python ${probe.version}`);
  }
  return { probe, read: read! };
}

/** The venv state as read before the venv id is known. */
interface VenvRead {
  readonly previousTarget: string;
  readonly verifiedOut: string;
  /** Names of the host's ready pip seeds (`.pip-seed-<id>`). */
  readonly seeds: ReadonlySet<string>;
  /** Names of the wheels in the host's wheelhouse (none without one). */
  readonly wheels: ReadonlySet<string>;
  /** Ready venv id -> its recorded freeze. */
  readonly ready: ReadonlyMap<string, string>;
}

/** Shell text listing the host wheelhouse's file names (nothing when the venv has none); nothing listed when it cannot be. */
function wheelNamesScript(spec: VenvUnitSpec): string {
  const wheelhouse = hostWheelhouse(spec);
  return wheelhouse === undefined ? "true" : `{ ${wheelhouseListingScript(wheelhouse)}; } 2>/dev/null; true`;
}

/** Shell text listing every ready venv of `venvsDir` with its recorded freeze: `<id> <bytes>` then the bytes. */
function readyVenvsScript(venvsDir: string): string {
  const freeze = `"$d"/${VENV_FREEZE_RECORD}`;
  return `for d in ${quote(venvsDir)}/*; do if [ -f "$d"/.webshare-ready ] && [ -f ${freeze} ] && [ -r ${freeze} ]; then printf '%s %s\\n' "\${d##*/}" "$(wc -c < ${freeze})" && cat ${freeze}; fi; done; true`;
}

/** What the state part of checkPython printed (pure). */
export function parseVenvRead(text: string): VenvRead {
  const [linkOut = "", verifiedOut = "", seedsOut = "", wheelsOut = "", readyOut = ""] = splitParts(text, "--\n", 4);
  const names = (out: string) => new Set(out.split("\n").filter((l) => l !== ""));
  const ready = new Map<string, string>();
  let bytes = Buffer.from(readyOut, "utf8");
  for (;;) {
    const nl = bytes.indexOf(0x0a);
    const head = /^(\S+) +(\d+)$/.exec(nl < 0 ? "" : bytes.subarray(0, nl).toString("utf8").trim());
    if (head === null) break;
    const size = Number(head[2]);
    ready.set(head[1]!, bytes.subarray(nl + 1, nl + 1 + size).toString("utf8"));
    bytes = bytes.subarray(nl + 1 + size);
  }
  return { previousTarget: linkOut.trim(), verifiedOut, seeds: names(seedsOut), wheels: names(wheelsOut), ready };
}

function venvTarget(spec: VenvUnitSpec, probe: PythonProbe, options: DeployVenvOptions): VenvTarget {
  const inputsId = contentId({
    python: [probe.version, probe.libpython ?? probe.executable],
    install: spec.installSha256,
    source: { ...spec.source, wheelhouse: undefined },
    wheels: spec.wheelhouseFiles,
    upgradePip: spec.upgradePip,
  });
  const venvId = options.forceRebuild ? rebuildId(inputsId) : inputsId;
  const venvsDir = abs(spec.host, spec.venvsDir);
  return { inputsId, venvId, venvsDir, venvDir: `${venvsDir}/${venvId}` };
}

/** The host's venvs as checkPython read them, for this deploy's venv id. */
function venvState(ctx: StepContext, read: VenvRead, target: VenvTarget): VenvState {
  const known = { previousTarget: read.previousTarget, ...parseLastVerified(read.verifiedOut) };
  const builtFreeze = read.ready.get(target.venvId);
  if (builtFreeze === undefined) return known;
  ctx.progress.info(`venv ${target.venvId} already built for these inputs: reusing it`);
  return { ...known, builtFreeze };
}

/**
 * Build the venv beside the live one: wheels, a fresh dir with pip from the seed, pip
 * install, freeze. When the host has everything the build needs (its seed ready, every wheel
 * in its wheelhouse, no pip upgrade asked for), the venv's creation, pip install and the
 * freeze record are ONE exchange, all without the host lock (see `oneExchangeBuild`);
 * otherwise the wheel upload and the creation (with a first deploy's seed build, under the
 * host lock) go side by side, then pip install and the freeze in an exchange of their own.
 */
async function buildVenv(ctx: StepContext, spec: VenvUnitSpec, target: VenvTarget, inputs: VenvInputs, probe: PythonProbe, read: VenvRead, then?: Stage): Promise<{ freeze: string; then?: StageOutput }> {
  const { session, place, progress } = ctx;
  const { venvId, venvsDir, venvDir } = target;
  const remoteInstallFile = `${venvsDir}/${venvId}.install.txt`;
  const pidFile = `${venvsDir}/${venvId}.build-pid`;
  const seed = pipSeedDir(hostSeedsDir(spec.host), probe);
  // Stop a build of this dir whose connection dropped (it may still run), start the dir
  // afresh, write the requirements pip installs (from stdin, before anything else could read
  // it), build the pip seed if this Python has none yet, link pip from it.
  const createScript = [stopOrphanScript(pidFile, venvDir), allOf([["rm", "-rf", venvDir], ["mkdir", "-p", venvsDir]]), stdinToFileScript(remoteInstallFile), seededVenvScript(spec.host.python, seed, venvDir, pipScriptNames(probe.version))].join(" && ");
  /** What the creation printed: its notes, and whether it built the seed. */
  const created = (stdout: string): boolean => {
    const lines = stdout.split("\n").map((l) => l.trim());
    for (const stopped of lines.filter((l) => l.startsWith("stopped "))) progress.info(`${stopped}: a build of ${venvId} left running by an interrupted deploy`);
    return lines.includes(SEED_BUILT);
  };
  const createdDetail = (built: boolean) => `(${venvId}; pip ${built ? `seed built first: ${path.posix.basename(seed)}` : "linked from the seed"})`;
  const python = `${venvDir}/bin/python`;
  const pip = pipCommand(python);
  const requirementCount = () => `(${plural(spec.packages ? Object.keys(spec.packages).length : spec.requirements.length, "requirement")})`;
  // pip's output goes to a log in the venv, so the heartbeat can show its last line.
  const log = `${venvDir}/.webshare-pip-install.log`;
  const freezeFile = `${venvDir}/${VENV_FREEZE_RECORD}`;
  // The build's last command: pip install, the freeze record, then `then` (the switch) when it rides.
  const stages = (remoteWheelhouse: string | undefined): Stage[] => [
    { name: "pip install", script: loggedScript(recordPidAndRun(pidFile, [...pip, "install", ...pipSourceArgs(spec, remoteWheelhouse), "-r", remoteInstallFile]), log) },
    { name: "record pip freeze", script: `${freezeScript(python)} > ${quote(freezeFile)} && ${allOf([["chmod", "0600", freezeFile], ["touch", `${venvDir}/.webshare-ready`], ["rm", "-f", remoteInstallFile, pidFile], ["cat", freezeFile]])}` },
    ...(then !== undefined ? [then] : []),
  ];
  // Interrupted (Ctrl+C): stop the remote pip too, not only this process.
  const stopBuild = stopOrphanScript(pidFile, venvDir);
  /**
   * Run the build's last exchange; a failure removes the new venv dir, so the next run starts
   * clean, unless the link names it: the switch rides in that exchange, and an exchange that
   * failed as a whole (no answer) may have switched it in.
   */
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    ctx.abortScripts?.set(stopBuild, "");
    try {
      return await work();
    } catch (e) {
      const cleanUp = `${allOf([["rm", "-f", remoteInstallFile, pidFile]])} && { ${linkNamesScript(abs(spec.host, spec.venvPath), venvDir)} || ${commandLine(["rm", "-rf", venvDir])}; }`;
      await session.runRaw(place, "clean up failed venv", cleanUp).catch(() => undefined);
      throw e;
    } finally {
      ctx.abortScripts?.delete(stopBuild);
    }
  };
  /** The stages' results as progress lines and errors, `createStage` first when it rode along, `then` last. */
  const report = async (all: readonly Stage[], staged: StagedResult, r: ExecResult, createStage?: Stage): Promise<{ freeze: string; then?: StageOutput }> => {
    const [pipStage, freezeStage] = all.slice(createStage === undefined ? 0 : 1);
    const freezeAt = all.indexOf(freezeStage!);
    if (createStage !== undefined) {
      if (staged.failed?.stage === createStage) {
        progress.ended("create venv", undefined, undefined, true);
        throw await stepFailed(ctx, "create venv", createScript, staged.failed.code, `${staged.failed.stdout}\n${r.stderr}`);
      }
      progress.ended("create venv", createdDetail(created(staged.done[0]!.stdout)), staged.done[0]!.seconds);
    }
    if (staged.failed?.stage === pipStage) {
      if (createStage !== undefined) progress.ended(pipStage!.name, undefined, undefined, true);
      throw await stepFailed(ctx, pipStage!.name, pipStage!.script, staged.failed.code, `${staged.failed.stdout}\n${r.stderr}`);
    }
    const pipDone = staged.done[createStage === undefined ? 0 : 1]!;
    if (createStage !== undefined) progress.ended(pipStage!.name, requirementCount(), pipDone.seconds);
    const failed = staged.failed;
    if (failed?.stage === freezeStage) {
      progress.ended(freezeStage!.name, undefined, undefined, true);
      throw await stepFailed(ctx, freezeStage!.name, freezeStage!.script, failed.code, `${failed.stdout}\n${r.stderr}`);
    }
    const frozen = staged.done[freezeAt]!;
    progress.ended(freezeStage!.name, undefined, frozen.seconds);
    if (failed !== undefined) {
      progress.ended(failed.stage.name, undefined, undefined, true);
      throw await stepFailed(ctx, failed.stage.name, failed.stage.script, failed.code, `${failed.stdout}\n${r.stderr}`);
    }
    return { freeze: frozen.stdout, ...(then !== undefined && { then: staged.done[freezeAt + 1] }) };
  };

  if (oneExchangeBuild(spec, read, seed)) {
    // Everything is on the host: create, install and record in one exchange. The unit lock
    // (this run's, held throughout) keeps this venvs dir to itself, and the seed is only
    // ever removed when no unit lock is held (removeSeedsScript), so none of it needs the
    // host lock: other units of the host may work meanwhile.
    const names = Object.keys(spec.wheelhouseFiles);
    if (names.length > 0) progress.info(`wheelhouse: the host has all ${plural(names.length, "wheel")} already`);
    const createStage: Stage = { name: "create venv", script: createScript };
    const all = [createStage, ...stages(hostWheelhouse(spec))];
    return guarded(() => {
      const exchange = async () => {
        progress.info("create venv and pip install started");
        const beat = progress.heartbeat("pip install", { lastLine: remoteLastLine(ctx, log) });
        try {
          // Named by its long part: a connection that drops meanwhile drops "during pip install".
          const r = await session.runRaw(place, "pip install", stagedScript(all), inputs.installText);
          return await report(all, parseStaged(all, r.stdout, r.code), r, createStage);
        } finally {
          beat.stop();
        }
      };
      return ctx.withoutHostLock ? ctx.withoutHostLock(exchange) : exchange();
    });
  }

  const createVenv = () => progress.step("create venv", async () => created((await session.run(place, "create venv", createScript, { stdin: inputs.installText })).stdout), createdDetail);
  // The wheel upload and the venv (with a first deploy's pip seed build) touch different
  // paths and wait on different things (the link, the host's CPU): side by side. Both end
  // before anything fails, so no step is left running behind an error.
  const [uploaded, createdVenv] = await Promise.allSettled([uploadWheelhouse(ctx, spec, read.wheels), createVenv()]);
  if (uploaded.status === "rejected") {
    // The new venv dir is of no use without its wheels: the next run starts clean.
    if (createdVenv.status === "fulfilled") await session.runRaw(place, "clean up failed venv", allOf([["rm", "-rf", venvDir, remoteInstallFile]])).catch(() => undefined);
    throw uploaded.reason;
  }
  if (createdVenv.status === "rejected") throw createdVenv.reason;
  const remoteWheelhouse = uploaded.value;
  if (spec.upgradePip) {
    await progress.long("upgrade pip, setuptools, wheel", () => session.run(place, "upgrade pip", commandLine([...pip, "install", "--upgrade", ...pipSourceArgs(spec, remoteWheelhouse), "pip", "setuptools", "wheel"])));
  }
  const all = stages(remoteWheelhouse);
  return guarded(() => {
    // pip writes only into this unit's new venv dir and reads the wheelhouse (whose wheels
    // appear by rename, see uploadWheelhouse), and so does the freeze: other units of the host may run meanwhile.
    const install = () =>
      progress.long(
        "pip install",
        async () => {
          const r = await session.runRaw(place, "pip install", stagedScript(all));
          const staged = parseStaged(all, r.stdout, r.code);
          if (staged.failed?.stage === all[0]) throw await stepFailed(ctx, all[0].name, all[0].script, staged.failed.code, `${staged.failed.stdout}\n${r.stderr}`);
          return { staged, r };
        },
        requirementCount,
        { lastLine: remoteLastLine(ctx, log) },
      );
    return (ctx.withoutHostLock ? ctx.withoutHostLock(install) : install()).then(({ staged, r }) => report(all, staged, r));
  });
}

/**
 * Whether the build can be one exchange without the host lock: this Python's seed is ready
 * (building one takes the host lock, and a first build is seconds of CPU best overlapped with
 * the wheel upload), the host's wheelhouse has every wheel (nothing to upload first), and no
 * pip upgrade is asked for (a step between creation and install).
 */
function oneExchangeBuild(spec: VenvUnitSpec, read: VenvRead, seed: string): boolean {
  return read.seeds.has(path.posix.basename(seed)) && Object.keys(spec.wheelhouseFiles).every((name) => read.wheels.has(name)) && !spec.upgradePip;
}

/** The most requirements text a switch carries in its own command text (the rest of it stays far below the host's 128 KiB per argument). */
const RIDING_TEXT_BYTES = 16 * 1024;

/** Switch the venv link to the new venv (its freeze and requirements with it), verify, or go back to the last verified one. */
function venvSwitchover(ctx: StepContext, spec: VenvUnitSpec, target: VenvTarget, state: VenvState, inputs: VenvInputs): Switchover {
  const { session, place } = ctx;
  const back = switchBackId(target.venvsDir, path.posix.dirname(abs(spec.host, spec.venvPath)), state.previousTarget, state.lastVerified, target.venvId);
  let touched = new Set<string>();
  const switchedIn = (stdout: string) => {
    touched = touchedSet(stdout);
    return `touched ${plural(touched.size, "entry point")}`;
  };
  // The venv keeps the requirements it serves: the switch copies them into place, and so does a rollback.
  const keepRequirements = `${target.venvDir}/${VENV_REQUIREMENTS_COPY}`;
  // Riding at the end of the build's command, the switch has no stdin of its own: the
  // requirements travel in its text, when they are small enough to.
  const rides = Buffer.byteLength(inputs.requirementsText) <= RIDING_TEXT_BYTES;
  return {
    noun: "venv",
    link: spec.venvPath,
    to: target.venvId,
    back,
    switchIn: async () => switchedIn((await session.run(place, "switch venv", `${stdinToFileScript(keepRequirements)} && ${venvSwitchScript(spec, target.venvDir)}`, { stdin: inputs.requirementsText })).stdout),
    ...(rides && { oneCommand: { script: `${textToFileScript(keepRequirements, inputs.requirementsText)} && ${venvSwitchScript(spec, target.venvDir)}`, switchedIn } }),
    isSwitchedIn: linkNamesScript(abs(spec.host, spec.venvPath), target.venvDir),
    verify: () => verifyVenv(ctx, spec, target.venvId, touched),
    ...(back !== undefined && { backScript: venvSwitchScript(spec, `${target.venvsDir}/${back}`) }),
    verifyBack: () => verifyVenv(ctx, spec, back!, touched),
    restartWedged: () => restartWedged(ctx, spec.host),
  };
}

/** drift --fix: unmark the drifted venv (and the inputs' own dir) so no later deploy reuses it. */
async function retireDriftedVenv(ctx: StepContext, spec: VenvUnitSpec, target: VenvTarget, state: VenvState): Promise<void> {
  const link = abs(spec.host, spec.venvPath);
  const replaced = state.previousTarget === "" ? [] : [path.posix.resolve(path.posix.dirname(link), state.previousTarget)];
  const stale = [`${target.venvsDir}/${target.inputsId}`, ...replaced].filter((d) => path.posix.dirname(d) === target.venvsDir).map((d) => `${d}/.webshare-ready`);
  await ctx.session.run(ctx.place, "retire drifted venv", commandLine(["rm", "-f", ...stale]));
}

export async function writeUnitRecord(ctx: StepContext, spec: UnitSpec, current: string, source: { recorded: RecordedSource; unchanged: boolean } = { recorded: {}, unchanged: false }, then?: string): Promise<void> {
  const record = unitRecordScript(ctx, spec, current, source);
  // One round trip: the record arrives on stdin, lands in a temp file, then one rename; `then`
  // (the prune) runs in the same exchange, and so does the release of the run's locks.
  const work = then === undefined ? record.script : `${record.script} && ${then}`;
  const release = ctx.lockRelease;
  const script = release === undefined ? work : `{ ${work}; }; rc=$?; ${release.script()}; exit $rc`;
  await ctx.session.run(ctx.place, then === undefined ? "record unit" : "record unit and prune", script, { stdin: record.stdin });
  release?.done();
}

/** Shell text writing the unit record from its stdin (a temp file, then one rename), and that stdin. */
function unitRecordScript(ctx: StepContext, spec: UnitSpec, current: string, source: { recorded: RecordedSource; unchanged: boolean }): { script: string; stdin: string } {
  const commit = commitToRecord(ctx.checkout, source.recorded, source.unchanged);
  const record: UnitRecord = { unit: spec.unit, kind: spec.kind, instance: ctx.instance, current, deployedAt: new Date().toISOString(), ...(commit !== undefined && { commit }), ...recordOwnership(spec) };
  const file = unitRecordPath(spec.host, spec.unit);
  const temp = `${file}.webshare-tmp`;
  return {
    script: `${commandLine(["mkdir", "-p", path.posix.dirname(file)])} && { { cat > ${quote(temp)} && ${commandLine(["mv", "-f", temp, file])}; } || { ${commandLine(["rm", "-f", temp])}; false; }; }`,
    stdin: JSON.stringify(record, null, 2) + "\n",
  };
}

/**
 * Destroy: remove what this unit created (the venv link, its venvs, requirements.txt and
 * freeze.txt), nothing else: never database.yml or other files in the home.
 */
export async function destroyVenv(ctx: StepContext, spec: VenvRemovalSpec): Promise<void> {
  const host = spec.host;
  const link = abs(host, spec.venvPath);
  await ctx.progress.step("remove venv", () =>
    ctx.session.run(
      ctx.place,
      "remove venv",
      [
        `if [ -L ${quote(link)} ]; then ${commandLine(["rm", "-f", link])}; fi`,
        commandLine(["rm", "-rf", abs(host, spec.venvsDir), abs(host, spec.requirementsPath), abs(host, spec.freezePath), unitRecordPath(host, spec.unit)]),
        removeIfEmpty(path.posix.dirname(abs(host, spec.venvsDir))),
        // The host's pip seeds go with its last venv unit (no venv is left to build from them).
        removeSeedsScript(hostSeedsDir(host), hostUnitsDir(host), unitLocksDir(host), [unitLockDir(host, spec.venvsDir)]),
      ].join(" && "),
    ),
  );
}
