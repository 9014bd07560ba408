import { code, codeCell, table } from "../summary/markdown";
import { listSome, plural } from "../plural";
import type { AppDrift, DriftReport, FileProblem, FixAction, HostFailure, OrphanDrift, PackageProblem, PackageRow, UnitDrift, VenvDrift } from "./model";

/**
 * `webshare drift` output: an aligned text table for terminals and Markdown for a PR or an
 * issue. Only drifted rows are listed (with a count of the rest); --json has everything. Pure.
 */
export interface DriftRenderOptions {
  /** Longest list before "... and N more". */
  readonly maxItems?: number;
}

const DEFAULT_MAX_ITEMS = 50;
const NONE = "-";

function packageProblemText(problem: PackageProblem, hasLock: boolean): string {
  switch (problem) {
    case "changed":
      return hasLock ? "live version differs" : "changed since the deploy";
    case "missing":
      return "missing from the live venv";
    case "unexpected":
      return hasLock ? "not in the lock" : "installed since the deploy";
    case "unrecorded":
      return "freeze.txt differs from the live venv";
  }
}

const FILE_PROBLEMS: Record<FileProblem, string> = {
  changed: "content changed on the host",
  missing: "missing on the host",
  unexpected: "not deployed by webshare",
};

const FIX_TEXT: Record<FixAction, string> = {
  none: "nothing to do",
  "rebuild-venv": "build a fresh venv beside the live one and switch to it",
  "rewrite-freeze": "record the live venv's pip freeze in freeze.txt again",
  "redeploy-app": "upload a fresh release and switch to it",
  "reinstall-apache-config": "install the rendered Apache config again",
  "restore-kept-releases": "restore the edited kept releases from files on the host",
};

/** The kept releases (what rollback may switch to) that differ from their manifests, one block each. */
function keptText(u: AppDrift, max: number, indent: string): string[] {
  const kept = u.kept ?? [];
  const edited = kept.filter((k) => k.files.length > 0);
  const lines: string[] = [];
  for (const k of edited) {
    lines.push(`${indent}kept release ${k.id}: EDITED on the host since it was deployed (${plural(k.files.length, "file")} ${k.files.length === 1 ? "differs" : "differ"} from its manifest)`);
    lines.push(...capLines(k.files, max, (f) => `${indent}  ${f.path}: ${FILE_PROBLEMS[f.problem]}`, `${indent}  `));
    lines.push(
      k.restore.unavailable.length === 0
        ? `${indent}  fix: restore it (${plural(k.restore.copies.length, "file")} copied from releases on the host, ${k.restore.remove.length} removed)`
        : `${indent}  cannot be restored: the deployed content of ${listSome(k.restore.unavailable)} is on the host no more; --fix retires it (rollback no longer offers it)`,
    );
  }
  const intact = kept.length - edited.length;
  if (intact > 0) lines.push(`${indent}${plural(intact, "kept release")} match${intact === 1 ? "es" : ""} ${intact === 1 ? "its manifest" : "their manifests"}`);
  return lines;
}

function desiredCell(row: PackageRow, hasLock: boolean): string {
  if (hasLock) return row.desired ?? NONE;
  if (row.requirement === undefined) return NONE;
  return row.requirement === "" ? "any version" : row.requirement;
}

function packageCells(u: VenvDrift, row: PackageRow): string[] {
  const recorded = u.recorded === "missing" ? "(no freeze.txt)" : (row.recorded ?? NONE);
  return [row.name, desiredCell(row, u.hasLock), recorded, row.live ?? NONE, packageProblemText(row.problem!, u.hasLock)];
}

function liveLine(u: VenvDrift): string {
  const where = u.liveTarget !== undefined ? `${u.venvPath} -> ${u.liveTarget}` : u.venvPath;
  switch (u.live.state) {
    case "ok":
      return `venv ${where} (Python ${u.live.python})`;
    case "missing":
      return `venv ${where}: not on the host`;
    case "broken":
      return `venv ${where}: its interpreter does not run: ${u.live.error.split("\n").slice(-1)[0]}`;
  }
}

function capLines<T>(items: readonly T[], max: number, render: (item: T) => string, indent: string): string[] {
  const shown = items.slice(0, max).map(render);
  if (items.length > max) shown.push(`${indent}... and ${items.length - max} more (see --json)`);
  return shown;
}

/** Columns padded to their widest cell. */
function align(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}`.trimEnd());
}

const status = (u: UnitDrift) => (u.drifted ? "DRIFTED" : "in sync");

function venvText(u: VenvDrift, max: number): string[] {
  const lines = [`${u.unit} (venv) on ${u.target}: ${status(u)}`, `  ${liveLine(u)}`];
  lines.push(`  ${u.hasLock ? "desired: the lock" : "desired: no lock, so desired versions are unknown (requirement names are checked)"}; recorded: ${u.recorded === "missing" ? `MISSING (${u.freezePath} does not exist)` : u.freezePath}`);
  for (const e of u.recordedErrors) lines.push(`  freeze.txt ${e}`);
  const drifted = u.packages.filter((p) => p.problem !== undefined);
  if (drifted.length > 0) {
    const rows = [["PACKAGE", "DESIRED", "RECORDED", "LIVE", "DRIFT"], ...drifted.slice(0, max).map((p) => packageCells(u, p))];
    lines.push(...align(rows, "  "));
    if (drifted.length > max) lines.push(`  ... and ${drifted.length - max} more (see --json)`);
  }
  const inSync = u.packages.length - drifted.length;
  lines.push(`  ${plural(inSync, "package")} in sync${u.drifted ? `; fix: ${FIX_TEXT[u.fix]}` : ""}`);
  return lines;
}

function configText(u: AppDrift): string {
  const c = u.apacheConfig;
  const what = c.mode === "self" ? "Apache config" : "Apache snippet for the hoster";
  return `${what} ${c.path}: ${c.state === "ok" ? "matches" : c.state === "missing" ? "MISSING" : "CHANGED"}`;
}

function appText(u: AppDrift, max: number): string[] {
  const where = u.liveTarget !== undefined ? `${u.appDir} -> ${u.liveTarget}` : u.appDir;
  const lines = [`${u.unit} (app) on ${u.target}: ${status(u)}`];
  lines.push(u.deployed ? `  release ${where}: ${u.checkedFiles - u.files.filter((f) => f.problem !== "unexpected").length} of ${plural(u.checkedFiles, "file")} match` : `  release ${where}: not on the host`);
  if (u.deployed && u.files.length > 0) {
    lines.push(...align([["FILE", "DRIFT"], ...u.files.slice(0, max).map((f) => [f.path, FILE_PROBLEMS[f.problem]])], "  "));
    if (u.files.length > max) lines.push(`  ... and ${u.files.length - max} more (see --json)`);
  }
  lines.push(...keptText(u, max, "  "));
  lines.push(`  ${configText(u)}`);
  const diff = [...u.apacheConfig.onlyLive.map((l) => `    - (installed) ${l}`), ...u.apacheConfig.onlyDesired.map((l) => `    + (desired)   ${l}`)];
  lines.push(...capLines(diff, max, (l) => l, "    "));
  if (u.drifted) lines.push(`  fix: ${FIX_TEXT[u.fix]}`);
  return lines;
}

function orphanText(o: OrphanDrift): string[] {
  const left = [...(o.apacheConfig !== undefined ? [`Apache ${o.apacheConfig.includes("/.webshare/apache/") ? "snippet" : "config"} ${o.apacheConfig}`] : []), ...o.paths];
  return [
    `${o.unit} (${o.kind}) on ${o.target}: ORPHANED: recorded on the host for ${o.host}, but no stack declares it`,
    `  still on the host: ${left.length > 0 ? left.join(", ") : "only its record"}`,
    `  fix: deploy the stack (its host inventory removes it), or declare the ${o.kind} again`,
  ];
}

function failureText(f: HostFailure): string {
  return `ERROR: cannot check ${f.target} (${plural(f.units.length, "unit")}: ${f.units.join(", ")}):\n  ${f.message.split("\n").join("\n  ")}`;
}

function summaryLine(report: DriftReport): string {
  const drifted = report.units.filter((u) => u.drifted).length;
  const units = plural(report.units.length, "unit");
  const hosts = plural(report.hosts, "host");
  const unchecked = report.failures.reduce((n, f) => n + f.units.length, 0);
  const failed = report.failures.length > 0 ? `${plural(report.failures.length, "host")} (${plural(unchecked, "unit")}) could not be checked` : "";
  if (report.units.length === 0) return `webshare drift: ${failed}; nothing was compared.`;
  const orphans = (report.orphans ?? []).length;
  const orphaned = orphans > 0 ? `, ${plural(orphans, "orphaned unit")}` : "";
  const found = drifted === 0 && orphans === 0 ? `no drift in ${units} on ${hosts}` : `${drifted} of ${units} drifted${orphaned} on ${hosts}`;
  return `webshare drift: ${found} (checked in ${report.seconds.toFixed(1)}s${failed === "" ? "" : `; ${failed}`}).`;
}

const trimEnd = (lines: string[]) => {
  while (lines[lines.length - 1] === "") lines.pop();
  return `${lines.join("\n")}\n`;
};

/** What was found: every unit, hosts that could not be checked, a summary line. */
export function renderCheckText(report: DriftReport, options: DriftRenderOptions & { readonly fixing?: boolean } = {}): string {
  const max = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const lines: string[] = [];
  for (const u of report.units) lines.push(...(u.kind === "venv" ? venvText(u, max) : appText(u, max)), "");
  for (const o of report.orphans ?? []) lines.push(...orphanText(o), "");
  for (const f of report.failures) lines.push(failureText(f), "");
  lines.push(summaryLine(report));
  if (!options.fixing && report.units.some((u) => u.drifted)) lines.push("Run `webshare drift --fix` to rebuild what drifted (and nothing else).");
  return trimEnd(lines);
}

/** What --fix did and the state checked again afterwards. */
export function renderFixText(report: DriftReport, options: DriftRenderOptions = {}): string {
  const max = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const fixes = report.fixes ?? [];
  if (fixes.length === 0) return "--fix: nothing drifted, nothing to do.\n";
  const lines = ["Fixes:"];
  for (const f of fixes) lines.push(`  ${f.unit} on ${f.target}: ${FIX_TEXT[f.action]}: ${f.ok ? "done" : `FAILED: ${(f.message ?? "unknown error").split("\n").join("\n    ")}`}`);
  lines.push("");
  for (const f of report.afterFailures ?? []) lines.push(failureText(f).replace("cannot check", "cannot check again"), "");
  const after = report.after ?? [];
  const left = after.filter((u) => u.drifted);
  if (left.length === 0) lines.push(`After --fix: no drift in ${plural(after.length, "unit")}.`);
  else lines.push(`After --fix: ${left.length} of ${plural(after.length, "unit")} still drifted:`, "", ...left.flatMap((u) => [...(u.kind === "venv" ? venvText(u, max) : appText(u, max)), ""]));
  return trimEnd(lines);
}

export function renderDriftText(report: DriftReport, options: DriftRenderOptions = {}): string {
  const check = renderCheckText(report, { ...options, fixing: report.fixes !== undefined });
  return report.fixes === undefined ? check : `${check}\n${renderFixText(report, options)}`;
}

// ---------------------------------------------------------------------------------------
// Markdown

function venvMarkdown(u: VenvDrift, max: number): string[] {
  const lines = [`#### ${code(u.unit)} (venv) on ${code(u.target)}: ${u.drifted ? "**drifted**" : "in sync"}`, ""];
  const live = u.live.state === "ok" ? `Python ${u.live.python}` : u.live.state === "missing" ? "**not on the host**" : `**broken**: ${u.live.error.split("\n").slice(-1)[0]}`;
  const where = u.liveTarget !== undefined ? `${code(u.venvPath)} → ${code(u.liveTarget)}` : code(u.venvPath);
  lines.push(`Live venv ${where} (${live}). ${u.hasLock ? "Desired: the lock." : "No lock: desired versions are unknown (requirement names are checked)."} Recorded: ${u.recorded === "missing" ? `**missing** (${code(u.freezePath)} does not exist)` : code(u.freezePath)}.`, "");
  for (const e of u.recordedErrors) lines.push(`- freeze.txt ${e}`);
  if (u.recordedErrors.length > 0) lines.push("");
  const drifted = u.packages.filter((p) => p.problem !== undefined);
  if (drifted.length > 0) {
    const rows = drifted.slice(0, max).map((p) => packageCells(u, p).map((c, i) => (i < 4 && c !== NONE && !c.startsWith("(") && c !== "any version" ? codeCell(c) : c)));
    lines.push(...table(["Package", "Desired", "Recorded", "Live", "Drift"], rows), "");
    if (drifted.length > max) lines.push(`... and ${drifted.length - max} more (see --json)`, "");
  }
  lines.push(`${plural(u.packages.length - drifted.length, "package")} in sync.${u.drifted ? ` Fix: ${FIX_TEXT[u.fix]}.` : ""}`, "");
  return lines;
}

function appMarkdown(u: AppDrift, max: number): string[] {
  const lines = [`#### ${code(u.unit)} (app) on ${code(u.target)}: ${u.drifted ? "**drifted**" : "in sync"}`, ""];
  if (!u.deployed) lines.push(`Release ${code(u.appDir)}: not on the host.`, "");
  else if (u.files.length > 0) {
    lines.push(...table(["File", "Drift"], u.files.slice(0, max).map((f) => [codeCell(f.path), FILE_PROBLEMS[f.problem]])), "");
    if (u.files.length > max) lines.push(`... and ${u.files.length - max} more (see --json)`, "");
  } else lines.push(`All ${plural(u.checkedFiles, "file")} of the live release match.`, "");
  const kept = keptText(u, max, "");
  if (kept.length > 0) lines.push(...kept.map((l) => (l.startsWith("  ") ? `  - ${l.trim()}` : `- ${l}`)), "");
  lines.push(`${configText(u).replace(u.apacheConfig.path, code(u.apacheConfig.path))}.`, "");
  if (u.apacheConfig.onlyLive.length + u.apacheConfig.onlyDesired.length > 0) {
    lines.push("```diff", ...u.apacheConfig.onlyLive.slice(0, max).map((l) => `- ${l}`), ...u.apacheConfig.onlyDesired.slice(0, max).map((l) => `+ ${l}`), "```", "");
  }
  if (u.drifted) lines.push(`Fix: ${FIX_TEXT[u.fix]}.`, "");
  return lines;
}

export function renderDriftMarkdown(report: DriftReport, options: DriftRenderOptions = {}): string {
  const max = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const drifted = report.units.filter((u) => u.drifted).length;
  const orphans = (report.orphans ?? []).length;
  const heading = drifted === 0 && orphans === 0 ? "no drift" : `${drifted} of ${plural(report.units.length, "unit")} drifted${orphans > 0 ? `, ${plural(orphans, "orphaned unit")}` : ""}`;
  const lines = [`### webshare drift: ${heading}`, ""];
  for (const f of report.failures) lines.push(`> **Error:** cannot check ${code(f.target)} (${f.units.map(code).join(", ")}): ${f.message.split("\n")[0]}`, "");
  for (const u of report.units) lines.push(...(u.kind === "venv" ? venvMarkdown(u, max) : appMarkdown(u, max)));
  for (const o of report.orphans ?? []) lines.push(`#### ${code(o.unit)} (${o.kind}) on ${code(o.target)}: **orphaned**`, "", ...orphanText(o).slice(1).map((l) => `- ${l.trim()}`), "");
  if (report.fixes !== undefined) {
    lines.push("**Fixes:**", "");
    if (report.fixes.length === 0) lines.push("- nothing drifted, nothing to do");
    for (const f of report.fixes) lines.push(`- ${code(f.unit)}: ${FIX_TEXT[f.action]}: ${f.ok ? "done" : `failed: ${f.message ?? "unknown error"}`}`);
    lines.push("");
    for (const f of report.afterFailures ?? []) lines.push(`> **Error:** cannot check ${code(f.target)} again: ${f.message.split("\n")[0]}`, "");
    const left = (report.after ?? []).filter((u) => u.drifted);
    lines.push(left.length === 0 ? "After the fixes: no drift." : `After the fixes, still drifted: ${left.map((u) => code(u.unit)).join(", ")}.`, "");
  }
  while (lines[lines.length - 1] === "") lines.pop();
  return `${lines.join("\n")}\n`;
}
