import * as fs from "node:fs";
import * as path from "node:path";
import type { HostSpec, VenvRemovalSpec, VenvUnitSpec } from "../spec";
import { allOf, commandLine, quote } from "../shell";
import { contentId } from "../hash";
import { errors } from "../errors";
import { plural } from "../plural";
import { abs, StepContext, unitRecordPath, UnitRecord } from "./context";
import { assertMatchesModWsgi, probePython } from "./python-probe";
import { majorMinor } from "../python-compat";
import { pruneScript, readLinkScript, switchSymlinkScript, touchExistingScript } from "./switch";
import { verifyServing } from "./verify";
import { recordPidAndRun, stopOrphanScript } from "./build-guard";
import { VENV_REQUIREMENTS_COPY } from "./kept";
import { ensureInitRecordScript } from "./serving-record";
import { rebuildId } from "./rebuild";
import { pipScriptNames, pipSeedDir, SEED_BUILT, seededVenvScript } from "./pip-seed";

/**
 * Venv lifecycle. Create: check the interpreter against mod_wsgi's Python, build a NEW venv
 * in its own content-addressed directory at its final path (venvs are not relocatable) while
 * the old one keeps serving, record `pip freeze --local`, switch the venv symlink in one
 * rename, write freeze.txt, touch the entry points, prune. Same inputs -> same directory, so
 * going back to an earlier lock switches without rebuilding.
 */

export function pipSourceArgs(spec: VenvUnitSpec, remoteWheelhouse: string | undefined): string[] {
  const args: string[] = [];
  if (spec.source.indexUrl !== undefined) args.push("--index-url", spec.source.indexUrl);
  for (const url of spec.source.extraIndexUrls) args.push("--extra-index-url", url);
  if (spec.source.noIndex) args.push("--no-index");
  if (remoteWheelhouse !== undefined) args.push("--find-links", remoteWheelhouse);
  return args;
}

function readLocal(ctx: StepContext, what: string, file: string): string {
  if (!fs.existsSync(file)) throw errors.localFileMissing(ctx.place, what, file);
  return fs.readFileSync(file, "utf8");
}

/**
 * Upload the wheels the host's wheelhouse lacks (by name; wheels are immutable) and return
 * its remote path, or undefined when the venv has no wheelhouse.
 */
export async function uploadWheelhouse(ctx: StepContext, spec: VenvUnitSpec): Promise<string | undefined> {
  if (spec.source.wheelhouse === undefined) return undefined;
  const { session, place, progress } = ctx;
  const wheelhouse = abs(spec.host, `${spec.host.stateDir}/wheelhouse`);
  await progress.step("upload wheelhouse", async () => {
    const listing = await session.run(place, "upload wheelhouse", `${commandLine(["mkdir", "-p", wheelhouse])} && ${commandLine(["ls", "-1", wheelhouse])}`);
    const present = new Set(listing.stdout.split("\n"));
    const missing = Object.keys(spec.wheelhouseFiles).filter((name) => !present.has(name));
    await session.putFiles(place, "upload wheelhouse", missing.map((name) => ({ local: path.resolve(spec.source.wheelhouse!, name), remote: `${wheelhouse}/${name}` })));
    return missing.length;
  }, (n) => `(${n} new of ${plural(Object.keys(spec.wheelhouseFiles).length, "wheel")})`);
  return wheelhouse;
}

export interface DeployVenvOptions {
  /** Build a fresh venv even though one for these inputs exists: that one drifted (drift --fix). */
  readonly forceRebuild?: boolean;
}

export async function deployVenv(ctx: StepContext, spec: VenvUnitSpec, options: DeployVenvOptions = {}): Promise<void> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const installFile = (spec.lockFile ?? spec.requirementsFile)!;
  const installText = readLocal(ctx, spec.lockFile ? "lock file" : "requirements file", installFile);
  const requirementsText = spec.requirementsFile ? readLocal(ctx, "requirements file", spec.requirementsFile) : installText;

  const probe = await progress.step("check Python", () => probePython(ctx, host), (p) => `(${p.executable} ${p.version}, mod_wsgi: ${p.modWsgi?.libpython ?? "not checked"})`);
  assertMatchesModWsgi(ctx, host, probe);
  if (spec.pythonVersion !== undefined && majorMinor(probe.version) !== spec.pythonVersion) {
    throw errors.pythonMismatch(place, `the app needs Python ${spec.pythonVersion} (its webshare.json says so), but ${probe.executable} is Python ${probe.version}`);
  }

  const inputsId = contentId({
    python: [probe.version, probe.libpython ?? probe.executable],
    install: spec.installSha256,
    source: { ...spec.source, wheelhouse: undefined },
    wheels: spec.wheelhouseFiles,
    upgradePip: spec.upgradePip,
  });
  const venvId = options.forceRebuild ? rebuildId(inputsId) : inputsId;
  const venvsDir = abs(host, spec.venvsDir);
  const venvDir = `${venvsDir}/${venvId}`;
  const python = `${venvDir}/bin/python`;
  const ready = `${venvDir}/.webshare-ready`;
  const freezeFile = `${venvDir}/.webshare-freeze.txt`;

  const link = abs(host, spec.venvPath);
  const entryPoints = spec.apps.map((a) => abs(host, a.entryPoint));
  // One round trip: the dirs the switch writes into, the live link's target, and whether a
  // venv for these inputs is already built (then with its recorded freeze).
  const state = await session.run(
    place,
    "look for an existing venv",
    `${commandLine(["mkdir", "-p", path.posix.dirname(abs(host, spec.requirementsPath)), path.posix.dirname(abs(host, spec.freezePath))])} && ` +
      `{ ${readLinkScript(link)}; echo '--'; if [ -f ${quote(ready)} ] && [ -f ${quote(freezeFile)} ]; then echo ready && cat ${quote(freezeFile)}; else echo missing; fi; }`,
  );
  const [linkOut, builtOut] = splitOnce(state.stdout, "--\n");
  const previousTarget = linkOut.trim();
  let freeze: string;
  if (builtOut.startsWith("ready\n")) {
    freeze = builtOut.slice("ready\n".length);
    progress.info(`venv ${venvId} already built for these inputs: reusing it`);
  } else {
    const remoteWheelhouse = await uploadWheelhouse(ctx, spec);
    const remoteInstallFile = `${venvsDir}/${venvId}.install.txt`;
    const pidFile = `${venvsDir}/${venvId}.build-pid`;
    const seed = pipSeedDir(venvsDir, probe);
    await progress.step("create venv", async () => {
      // One round trip: stop a build of this dir whose connection dropped (it may still run),
      // start the dir afresh, build the pip seed if this Python has none yet, link pip from it.
      const out = await session.run(
        place,
        "create venv",
        [
          stopOrphanScript(pidFile, venvDir),
          allOf([["rm", "-rf", venvDir], ["mkdir", "-p", venvsDir]]),
          seededVenvScript(host.python, seed, venvDir, pipScriptNames(probe.version)),
        ].join(" && "),
      );
      const lines = out.stdout.split("\n").map((l) => l.trim());
      for (const stopped of lines.filter((l) => l.startsWith("stopped "))) progress.info(`${stopped}: a build of ${venvId} left running by an interrupted deploy`);
      await session.writeFileAtomic(place, "create venv", remoteInstallFile, installText);
      return lines.includes(SEED_BUILT);
    }, (built) => `(${venvId}; pip ${built ? `seed built first: ${path.posix.basename(seed)}` : "linked from the seed"})`);
    const pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"];
    const sourceArgs = pipSourceArgs(spec, remoteWheelhouse);
    if (spec.upgradePip) {
      await progress.step("upgrade pip, setuptools, wheel", () => session.run(place, "upgrade pip", commandLine([...pip, "install", "--upgrade", ...sourceArgs, "pip", "setuptools", "wheel"])));
    }
    // Interrupted (Ctrl+C): stop the remote pip too, not only this process.
    const stopBuild = stopOrphanScript(pidFile, venvDir);
    ctx.abortScripts?.add(stopBuild);
    try {
      await progress.step(
        "pip install",
        () => session.run(place, "pip install", recordPidAndRun(pidFile, [...pip, "install", ...sourceArgs, "-r", remoteInstallFile])),
        () => `(${plural(spec.packages ? Object.keys(spec.packages).length : spec.requirements.length, "requirement")})`,
      );
    } catch (e) {
      // A failed build never becomes current; remove it so the next run starts clean.
      await session.runRaw(place, "clean up failed venv", allOf([["rm", "-rf", venvDir, remoteInstallFile, pidFile]])).catch(() => undefined);
      throw e;
    } finally {
      ctx.abortScripts?.delete(stopBuild);
    }
    const recorded = await progress.step("record pip freeze", () =>
      session.run(
        place,
        "record pip freeze",
        `${commandLine([...pip, "freeze", "--local"])} > ${quote(freezeFile)} && ${allOf([["touch", ready], ["rm", "-f", remoteInstallFile, pidFile], ["cat", freezeFile]])}`,
      ),
    );
    freeze = recorded.stdout;
  }

  const touched = await progress.step("switch venv", async () => {
    await session.writeFileAtomic(place, "write requirements", abs(host, spec.requirementsPath), requirementsText);
    // The venv keeps the requirements it serves, so `webshare rollback` can put them back.
    await session.writeFileAtomic(place, "write requirements", `${venvDir}/${VENV_REQUIREMENTS_COPY}`, requirementsText);
    const out = await session.run(place, "switch venv", `${ensureInitRecordScript(python)} && ${switchSymlinkScript(link, venvDir, `${link}.before-webshare-${Date.now()}`)} && ${touchExistingScript(entryPoints)}`);
    return new Set(out.stdout.split("\n").filter((l) => l !== ""));
  }, (t) => `(${spec.venvPath} -> ${venvId}; touched ${plural(t.size, "entry point")})`);

  // Apps not deployed yet (first deploy: the venv goes first) have nothing to check.
  for (const app of spec.apps) {
    const check = app.healthCheck;
    if (check === undefined || !touched.has(abs(host, app.entryPoint))) continue;
    const failure = await verifyServing(ctx, check, { venv: venvId }, { allowUnreporting: true });
    if (failure === undefined) continue;
    const log = await errorLogTail(ctx, host);
    let restored = "there was no previous venv to switch back to";
    if (previousTarget !== "") {
      const previousDir = path.posix.resolve(path.posix.dirname(link), previousTarget);
      await progress.step("roll back venv", async () => {
        await session.run(place, "roll back venv", switchSymlinkScript(link, previousDir, `${link}.before-webshare-${Date.now()}`));
        await session.run(place, "touch entry points", touchExistingScript(entryPoints));
      }, () => `(${spec.venvPath} -> ${path.posix.basename(previousDir)})`);
      restored = `switched back to the previous venv ${path.posix.basename(previousDir)}`;
    }
    throw errors.healthCheckFailed(place, failure.url, failure.reason, log, restored);
  }
  await session.writeFileAtomic(place, "write freeze.txt", abs(host, spec.freezePath), freeze);
  if (options.forceRebuild) {
    // The replaced venv drifted: unmark it so no later deploy of these inputs reuses it.
    const replaced = previousTarget === "" ? [] : [path.posix.resolve(path.posix.dirname(link), previousTarget)];
    const stale = [`${venvsDir}/${inputsId}`, ...replaced].filter((d) => path.posix.dirname(d) === venvsDir).map((d) => `${d}/.webshare-ready`);
    await session.run(place, "retire drifted venv", commandLine(["rm", "-f", ...stale]));
  }

  if (spec.localFreezeFile !== undefined) fs.writeFileSync(spec.localFreezeFile, freeze);
  await writeUnitRecord(ctx, spec, venvId);
  await session.run(place, "prune old venvs", pruneScript(host.python, venvsDir, `${venvsDir}/.history`, venvId, spec.keep));
  progress.info(`venv ready: ${plural(freeze.trim().split("\n").filter((l) => l !== "").length, "package")} recorded in ${spec.freezePath}${spec.localFreezeFile ? ` and ${spec.localFreezeFile}` : ""}`);
}

export async function writeUnitRecord(ctx: StepContext, spec: { unit: string; kind: "venv" | "app"; host: VenvUnitSpec["host"] }, current: string): Promise<void> {
  const record: UnitRecord = { unit: spec.unit, kind: spec.kind, instance: ctx.instance, current, deployedAt: new Date().toISOString() };
  const file = unitRecordPath(spec.host, spec.unit);
  // One round trip: the record arrives on stdin, lands in a temp file, then one rename.
  const temp = `${file}.webshare-tmp`;
  await ctx.session.run(ctx.place, "record unit", `${commandLine(["mkdir", "-p", path.posix.dirname(file)])} && cat > ${quote(temp)} && ${commandLine(["mv", "-f", temp, file])}`, {
    stdin: JSON.stringify(record, null, 2) + "\n",
  });
}

/** Text before and after the first separator (after is "" when there is none). */
function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** Remove a directory the tool made for its own content, but only once nothing is left in it. */
export function removeIfEmpty(dir: string): string {
  // A unit destroyed before it ever deployed has no such directory: nothing to remove.
  return `{ [ ! -d ${quote(dir)} ] || ${commandLine(["rmdir", "--ignore-fail-on-non-empty", dir])}; }`;
}

/** Tail of the Apache error log (when the host names one): it usually says why an app failed. */
export async function errorLogTail(ctx: StepContext, host: HostSpec): Promise<string> {
  if (host.errorLog === undefined) return "";
  const result = await ctx.session.runRaw(ctx.place, "read error log", commandLine(["tail", "-n", "20", host.errorLog]));
  return result.code === 0 ? result.stdout : "";
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
      ].join(" && "),
    ),
  );
}
