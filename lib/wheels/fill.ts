import * as fs from "node:fs";
import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { errors, errorText } from "../errors";
import { commandLine } from "../shell";
import { hashFlatDir } from "../local-files";
import { majorMinor } from "../python-compat";
import { OutputTail } from "../progress";
import { exitText, runLocal } from "../local-process";
import { plural } from "../plural";
import { progressFor } from "../host/context";
import type { HostCommandIo } from "../host/each-host";
import { compiledWheels, LocalPython, localPythonFit, pipWheelArgv, wheelhouseChanges } from "./plan";

/**
 * Fill Venvs' local wheelhouses with `pip wheel`, run by a Python on the deploying machine,
 * so later deploys install from the wheelhouse (`noIndex`) even when the package index is
 * down. Wheels already in the wheelhouse are reused (`--find-links`). Nothing touches a
 * host. The wheelhouse's file hashes are part of the Venv's spec, so new wheels show in the
 * next plan.
 */

const PROBE = "import json, sys, sysconfig, importlib.util; print(json.dumps({'executable': sys.executable, 'version': '%d.%d.%d' % sys.version_info[:3], 'platform': sysconfig.get_platform(), 'pip': importlib.util.find_spec('pip') is not None}))";

async function probeLocalPython(command: string, io: Pick<HostCommandIo, "cwd" | "env">): Promise<LocalPython> {
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
  const progress = progressFor(spec.unit, io.env, io.log);
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

/**
 * Fill the wheelhouse of every Venv that has one, one after another, with the local Python
 * `python` (e.g. "python3"); a Venv without one is named as skipped. Each Venv's result (or
 * ERROR line) is written when it is done. True when every wheelhouse was filled.
 */
export async function fillWheelhouses(venvs: readonly VenvUnitSpec[], python: string, io: HostCommandIo): Promise<boolean> {
  const withWheelhouse = venvs.filter((v) => v.source.wheelhouse !== undefined);
  const without = venvs.filter((v) => v.source.wheelhouse === undefined).map((v) => v.unit);
  if (withWheelhouse.length === 0) throw errors.noWheelhouse(without);
  for (const unit of without) io.write(`${unit}: skipped: this Venv has no wheelhouse\n`);

  const local = await probeLocalPython(python, io);
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
  return ok;
}
