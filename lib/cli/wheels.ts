import * as fs from "node:fs";
import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { errors, errorText } from "../errors";
import { commandLine } from "../shell";
import { hashFlatDir } from "../local-files";
import { majorMinor } from "../python-compat";
import { heartbeatSecondsFrom, OutputTail, Progress } from "../progress";
import { exitText, runLocal } from "../local-process";
import { pipCommand, pipSourceArgs } from "../lifecycle/pip";
import { loadUnits, UnitSource } from "../stacks/load";
import { plural } from "../plural";
import type { HostCommandIo } from "../host/each-host";

/**
 * `webshare wheels [CONSTRUCT]`: fill each selected Venv's local wheelhouse with
 * `pip wheel`, run by a Python on the deploying machine, so later deploys install from the
 * wheelhouse (`noIndex`) even when the package index is down. Wheels already in the
 * wheelhouse are reused (`--find-links`). Nothing touches a host. The wheelhouse's file
 * hashes are part of the Venv's spec, so new wheels show in the next plan.
 * Returns 0 when every selected wheelhouse was filled, 1 otherwise.
 */
export interface WheelsCommandOptions extends Pick<UnitSource, "app" | "dir"> {
  /** The local interpreter that runs pip. @default "python3" */
  readonly python?: string;
}

/** What the local interpreter is, as it reports itself. */
export interface LocalPython {
  /** As given (`--python`), for messages and the pip command. */
  readonly command: string;
  readonly executable: string;
  /** e.g. "3.11.7" */
  readonly version: string;
  /** `sysconfig.get_platform()`, e.g. "linux-x86_64" */
  readonly platform: string;
}

/** The argv that fills a Venv's wheelhouse (paths as the spec has them: project-relative). Pure. */
export function pipWheelArgv(python: string, spec: VenvUnitSpec): string[] {
  const wheelhouse = spec.source.wheelhouse;
  if (wheelhouse === undefined) throw new Error(`${spec.unit} has no wheelhouse`);
  const requirements = spec.lockFile ?? spec.requirementsFile!;
  return [...pipCommand(python), "wheel", "--wheel-dir", wheelhouse, ...pipSourceArgs(spec, wheelhouse), "-r", requirements];
}

/**
 * Can wheels built by this interpreter serve the Venv? A declared `pythonVersion` must equal
 * the local X.Y; without one only a warning says what the wheels are built for. Pure.
 */
export function localPythonFit(local: LocalPython, spec: VenvUnitSpec): { ok: boolean; message: string } {
  const built = `Python ${local.version} on ${local.platform}`;
  if (spec.pythonVersion === undefined) {
    return {
      ok: true,
      message: `warning: ${spec.unit} declares no pythonVersion; building with ${built}. Compiled (non-pure) wheels only install on a host with the same Python X.Y and platform (this Venv's host runs ${spec.host.python})`,
    };
  }
  if (majorMinor(local.version) !== spec.pythonVersion) return { ok: false, message: `${spec.unit} needs Python ${spec.pythonVersion} (its pythonVersion), but ${local.command} is ${built}` };
  return { ok: true, message: `${built} matches pythonVersion ${spec.pythonVersion}` };
}

/** Files that appeared or whose content changed between two listings (name -> sha256). Pure. */
export function wheelhouseChanges(before: Record<string, string>, after: Record<string, string>): { added: string[]; replaced: string[] } {
  const names = Object.keys(after).sort();
  return { added: names.filter((n) => !(n in before)), replaced: names.filter((n) => n in before && before[n] !== after[n]) };
}

/** The wheels among these file names built for one Python and platform (not `none-any`). Pure. */
export function compiledWheels(names: readonly string[]): string[] {
  return names.filter((name) => {
    const parts = name.replace(/\.whl$/, "").split("-");
    return name.endsWith(".whl") && parts.length >= 5 && (parts[parts.length - 2] !== "none" || parts[parts.length - 1] !== "any");
  });
}

const PROBE = "import json, sys, sysconfig, importlib.util; print(json.dumps({'executable': sys.executable, 'version': '%d.%d.%d' % sys.version_info[:3], 'platform': sysconfig.get_platform(), 'pip': importlib.util.find_spec('pip') is not None}))";

async function probeLocalPython(command: string, io: HostCommandIo): Promise<LocalPython> {
  const run = await runLocal(command, ["-c", PROBE], { cwd: io.cwd, env: io.env, passThrough: false });
  if (run.code !== 0) throw errors.localPythonUnusable(command, exitText(run.code), run.output);
  let info: { executable: string; version: string; platform: string; pip: boolean };
  try {
    info = JSON.parse(run.output.trim().split("\n").pop() ?? "");
  } catch {
    throw errors.localPythonUnusable(command, "it did not report its version (is it Python 3?)", run.output);
  }
  if (!info.pip) throw errors.localPythonUnusable(command, `${info.executable} has no pip`, "");
  return { command, executable: info.executable, version: info.version, platform: info.platform };
}

async function fillWheelhouse(spec: VenvUnitSpec, local: LocalPython, io: HostCommandIo): Promise<string[]> {
  const progress = new Progress(spec.unit, io.log, undefined, { heartbeatSeconds: heartbeatSecondsFrom(io.env) });
  const fit = localPythonFit(local, spec);
  if (!fit.ok) throw errors.localPythonMismatch(fit.message);
  progress.info(fit.message);
  const requirements = spec.lockFile ?? spec.requirementsFile!;
  if (!fs.existsSync(path.resolve(io.cwd, requirements))) throw errors.localFileMissing({ unit: spec.unit, target: "this machine" }, spec.lockFile ? "lock file" : "requirements file", requirements);
  const wheelhouse = spec.source.wheelhouse!;
  const dir = path.resolve(io.cwd, wheelhouse);
  fs.mkdirSync(dir, { recursive: true });
  const before = hashFlatDir(dir);
  const argv = pipWheelArgv(local.command, spec);
  progress.info(commandLine(argv));
  const tail = new OutputTail();
  const after = await progress.long("pip wheel", async () => {
    const run = await runLocal(argv[0], argv.slice(1), { cwd: io.cwd, env: io.env, passThrough: false, onOutput: (chunk) => tail.push(chunk) });
    if (run.code !== 0) throw errors.pipWheelFailed(spec.unit, commandLine(argv), exitText(run.code), run.output);
    return hashFlatDir(dir);
  }, (files) => `(${plural(wheelhouseChanges(before, files).added.length, "new wheel")})`, { lastLine: () => tail.last() });

  const changes = wheelhouseChanges(before, after);
  const lines = [`${spec.unit}: ${wheelhouse}: ${changes.added.length === 0 ? "no new wheels" : `${plural(changes.added.length, "wheel")} added`} (${plural(Object.keys(after).length, "file")} in all)`];
  lines.push(...changes.added.map((name) => `  + ${name}`), ...changes.replaced.map((name) => `  ~ ${name} (rebuilt: other content)`));
  const compiled = compiledWheels([...changes.added, ...changes.replaced]);
  if (compiled.length > 0) lines.push(`  note: ${plural(compiled.length, "compiled wheel")} for ${local.platform} and Python ${majorMinor(local.version)}: they install only on a host with that platform and Python`);
  const sinceSynth = wheelhouseChanges(spec.wheelhouseFiles, after);
  const unplanned = sinceSynth.added.length + sinceSynth.replaced.length;
  lines.push(
    unplanned > 0
      ? `  ${plural(unplanned, "wheel")} not in the synthesized stack: the wheelhouse is part of ${spec.unit}'s spec, so the next plan will show the new wheels (deploying them builds a new venv)`
      : "  the wheelhouse is as synthesized: the next plan shows no change from it",
  );
  if (!spec.source.noIndex) lines.push(`  note: ${spec.unit} has no noIndex, so deploys still ask the package index; set noIndex: true to install only from the wheelhouse`);
  return lines;
}

export async function wheelsCommand(selector: string | undefined, options: WheelsCommandOptions, io: HostCommandIo): Promise<number> {
  const venvs = (await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env)).flatMap((u) => (u.spec.kind === "venv" ? [u.spec] : []));
  if (venvs.length === 0) throw errors.noUnits("the selected stacks (no Venv)", selector);
  const withWheelhouse = venvs.filter((v) => v.source.wheelhouse !== undefined);
  const without = venvs.filter((v) => v.source.wheelhouse === undefined).map((v) => v.unit);
  if (withWheelhouse.length === 0) throw errors.noWheelhouse(without);
  for (const unit of without) io.write(`${unit}: skipped: this Venv has no wheelhouse\n`);

  const local = await probeLocalPython(options.python ?? "python3", io);
  io.log(`local Python: ${local.command} is Python ${local.version} on ${local.platform} (${local.executable})`);
  let ok = true;
  for (const spec of withWheelhouse) {
    try {
      io.write(`${(await fillWheelhouse(spec, local, io)).join("\n")}\n`);
    } catch (e) {
      ok = false;
      io.write(`ERROR: ${errorText(e)}\n`);
    }
  }
  return ok ? 0 : 1;
}
