import type { VenvUnitSpec } from "../spec";
import { majorMinor } from "../python-compat";
import { pipCommand, pipSourceArgs } from "../lifecycle/pip";

/**
 * What `webshare wheels` decides before and after it runs pip (pure): the pip argv, whether
 * a local interpreter fits a Venv, what changed in a wheelhouse, which wheels are compiled.
 */

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
