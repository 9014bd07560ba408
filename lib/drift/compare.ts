import type { AppUnitSpec, VenvUnitSpec } from "../spec";
import { compareVersions } from "../pep440";
import { normalizeName, packagesFromEntries, parseRequirements } from "../requirements";
import { isExcluded } from "../local-files";
import { apacheConfigOf, apacheConfigPath, releaseFilesOf } from "../render/unit-files";
import { abs } from "../lifecycle/context";
import type { AppObservation, LivePackage, VenvObservation } from "./probe";
import { planRestore, RestoreSource } from "../releases/restore";
import type { AppDrift, FileRow, FixAction, KeptReleaseDrift, LiveState, PackageProblem, PackageRow, VenvDrift } from "./model";

/**
 * The three-way comparison behind `webshare drift`: desired (the synthesized spec), recorded
 * (the host's freeze.txt) and live (what the venv's own interpreter reports), plus app files
 * and the Apache config. Pure: spec and observation in, drift out.
 */

/** Files the tool writes into every release for itself; not app content. */
const RELEASE_BOOKKEEPING = [".webshare-manifest.json", ".webshare-ready"];

/** A live package as the lock and freeze files write it: a version, or "@ <url>". */
function liveValue(p: LivePackage): string {
  return p.url !== undefined && p.url !== "" ? `@ ${p.url}` : p.version;
}

/** Same version by PEP 440 (1.0 == 1.0.0); URLs only when identical. */
export function sameVersion(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.startsWith("@ ") || b.startsWith("@ ")) return a === b;
  return compareVersions(a, b) === 0;
}

function normalizeKeys(packages: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(packages).map(([name, version]) => [normalizeName(name), version]));
}

/** Requirement names (normalised) -> their version specifiers as written, "" for none. */
function requiredNames(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of parseRequirements(lines.join("\n")).entries) {
    if (e.kind === "specifier") out.set(e.name, e.specifiers.map((s) => `${s.operator}${s.version}`).join(","));
    else if (e.kind === "pinned") out.set(e.name, `${e.operator}${e.version}`);
    else if (e.kind === "url") out.set(e.name, `@ ${e.url}`);
    else if (e.kind === "editable" && e.name !== undefined) out.set(e.name, `-e ${e.target}`);
  }
  return out;
}

/** With a lock, the lock is the reference for every package; the record must match the live venv. */
function lockProblem(desired: string | undefined, recorded: string | undefined, live: string | undefined, hasRecord: boolean): PackageProblem | undefined {
  if (desired !== undefined && live === undefined) return "missing";
  if (desired === undefined && live !== undefined) return "unexpected";
  if (!sameVersion(desired, live)) return "changed";
  if (hasRecord && !sameVersion(recorded, live)) return "unrecorded";
  return undefined;
}

/**
 * Without a lock no version is desired: the record of the deploy is the reference, and every
 * requirement must be installed. With no record either, only the requirement names are checked.
 */
function looseProblem(required: boolean, recorded: string | undefined, live: string | undefined, hasRecord: boolean): PackageProblem | undefined {
  if (live === undefined) return required || recorded !== undefined ? "missing" : undefined;
  if (!hasRecord) return undefined;
  if (recorded === undefined) return required ? "unrecorded" : "unexpected";
  return sameVersion(recorded, live) ? undefined : "changed";
}

function liveStateOf(obs: VenvObservation): { state: LiveState; packages: Map<string, string> } {
  if (!obs.exists || obs.live === undefined) return { state: { state: "missing" }, packages: new Map() };
  if (!obs.live.ok) return { state: { state: "broken", error: obs.live.error }, packages: new Map() };
  return { state: { state: "ok", python: obs.live.python }, packages: new Map(obs.live.packages.map((p) => [normalizeName(p.name), liveValue(p)])) };
}

function venvFix(live: LiveState, packages: readonly PackageRow[], recordNeedsRewrite: boolean): FixAction {
  if (live.state !== "ok" || packages.some((p) => p.problem !== undefined && p.problem !== "unrecorded")) return "rebuild-venv";
  return recordNeedsRewrite || packages.some((p) => p.problem === "unrecorded") ? "rewrite-freeze" : "none";
}

export function compareVenv(spec: VenvUnitSpec, obs: VenvObservation, where: { stack: string; target: string }): VenvDrift {
  const hasLock = spec.lockFile !== undefined && spec.packages !== undefined;
  const desired = normalizeKeys(spec.packages ?? {});
  const required = hasLock ? new Map<string, string>() : requiredNames(spec.requirements);
  const hasRecord = obs.recorded !== null;
  const parsedRecord = hasRecord ? parseRequirements(obs.recorded!) : { entries: [], errors: [] };
  const recorded = new Map(Object.entries(packagesFromEntries(parsedRecord.entries)));
  const { state: live, packages: livePackages } = liveStateOf(obs);

  const names = [...new Set([...desired.keys(), ...required.keys(), ...recorded.keys(), ...livePackages.keys()])].sort();
  const packages: PackageRow[] = names.map((name) => {
    const d = desired.get(name);
    const r = recorded.get(name);
    const l = livePackages.get(name);
    const problem = hasLock ? lockProblem(d, r, l, hasRecord) : looseProblem(required.has(name), r, l, hasRecord);
    return {
      name,
      ...(d !== undefined && { desired: d }),
      ...(required.has(name) && { requirement: required.get(name)! }),
      ...(r !== undefined && { recorded: r }),
      ...(l !== undefined && { live: l }),
      ...(problem !== undefined && { problem }),
    };
  });
  const recordedErrors = parsedRecord.errors.map((e) => e.message);
  const recordNeedsRewrite = !hasRecord || recordedErrors.length > 0;
  const fix = venvFix(live, packages, recordNeedsRewrite);
  return {
    kind: "venv",
    unit: spec.unit,
    stack: where.stack,
    target: where.target,
    venvPath: spec.venvPath,
    ...(obs.link !== null && { liveTarget: obs.link }),
    hasLock,
    freezePath: spec.freezePath,
    recorded: hasRecord ? "present" : "missing",
    recordedErrors,
    live,
    packages,
    drifted: fix !== "none",
    fix,
  };
}

/** What a release must hold: the app's files plus the generated entry point (as deployApp writes it). */
export const desiredReleaseFiles: (spec: AppUnitSpec) => Record<string, string> = releaseFilesOf;

/** Lines of `a` not in `b`, as a multiset (order is kept, repeats counted). */
function linesNotIn(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const line of b) left.set(line, (left.get(line) ?? 0) + 1);
  return a.filter((line) => {
    const n = left.get(line) ?? 0;
    if (n > 0) left.set(line, n - 1);
    return n === 0;
  });
}

/** What differs between the files a release should hold and the files it holds (pure). */
export function fileDrift(desired: Readonly<Record<string, string>>, observed: Readonly<Record<string, string>>, exclude: readonly string[]): FileRow[] {
  // Bytecode caches and the like that mod_wsgi writes beside the code are not app content.
  const live = Object.fromEntries(Object.entries(observed).filter(([f]) => !RELEASE_BOOKKEEPING.includes(f) && !isExcluded(f, exclude)));
  const files: FileRow[] = [];
  for (const f of [...new Set([...Object.keys(desired), ...Object.keys(live)])].sort()) {
    const d = desired[f];
    const l = live[f];
    if (d === l) continue;
    const problem = d === undefined ? "unexpected" : l === undefined ? "missing" : "changed";
    files.push({ path: f, problem, ...(d !== undefined && { desired: d }), ...(l !== undefined && { live: l }) });
  }
  return files;
}

/**
 * Each kept release against its OWN manifest (what was deployed into it), and how it would
 * be restored from the files the host holds now (the live release's, the other kept ones'
 * and the object store's). A kept release without a readable manifest cannot be compared and is left out.
 */
export function compareKept(spec: Pick<AppUnitSpec, "exclude">, obs: AppObservation): KeptReleaseDrift[] {
  const kept = obs.kept ?? [];
  // The object store's files are named by the sha256 they should hold; the restore checks it while it copies.
  const store = obs.objects === undefined ? [] : [{ dir: obs.objects.dir, files: Object.fromEntries(obs.objects.names.map((n) => [n, n])) }];
  const sources: RestoreSource[] = [...(obs.releaseDir !== undefined && obs.exists ? [{ dir: obs.releaseDir, files: obs.files }] : []), ...kept.map((k) => ({ dir: k.dir, files: k.files })), ...store];
  return kept
    .filter((k) => k.manifest !== null)
    .map((k) => {
      const files = fileDrift(k.manifest!, k.files, spec.exclude);
      return { id: k.id, files, restore: planRestore(k.dir, files, sources.filter((s) => s.dir !== k.dir)) };
    });
}

export function compareApp(spec: AppUnitSpec, obs: AppObservation, where: { stack: string; target: string }): AppDrift {
  const desired = desiredReleaseFiles(spec);
  const files = fileDrift(desired, obs.files, spec.exclude);
  const kept = obs.kept === undefined ? undefined : compareKept(spec, obs);
  const configText = apacheConfigOf(spec);
  const configState = obs.config === null ? "missing" : obs.config === configText ? "ok" : "changed";
  const liveLines = obs.config === null ? [] : obs.config.split("\n");
  const desiredLines = configText.split("\n");
  const apacheConfig = {
    path: apacheConfigPath(spec),
    mode: spec.host.apache.mode,
    state: configState,
    onlyLive: configState === "changed" ? linesNotIn(liveLines, desiredLines) : [],
    onlyDesired: configState === "changed" ? linesNotIn(desiredLines, liveLines) : [],
  } as const;

  const keptEdited = (kept ?? []).some((k) => k.files.length > 0);
  const fix: FixAction = !obs.exists || files.length > 0 ? "redeploy-app" : configState !== "ok" ? "reinstall-apache-config" : keptEdited ? "restore-kept-releases" : "none";
  return {
    kind: "app",
    unit: spec.unit,
    stack: where.stack,
    target: where.target,
    appDir: spec.appDir,
    ...(obs.link !== null && { liveTarget: obs.link }),
    deployed: obs.exists,
    checkedFiles: Object.keys(desired).length,
    files,
    apacheConfig,
    ...(kept !== undefined && { kept }),
    drifted: fix !== "none",
    fix,
  };
}

/** The probe's view of where a unit lives on the host. */
export const venvPaths = (spec: VenvUnitSpec) => ({ venv: abs(spec.host, spec.venvPath), freeze: abs(spec.host, spec.freezePath) });
export const appPaths = (spec: AppUnitSpec) => ({ appDir: abs(spec.host, spec.appDir), config: apacheConfigPath(spec), releasesDir: abs(spec.host, spec.releasesDir) });
