/**
 * Markdown for reviewers: a plan summary for a PR comment, and the diff of two requirement
 * files. Tables for package changes, short lists for files and settings; everything is
 * readable as raw text too. Pure: model in, text out.
 */
import { changeText, type PackageDiff, type VersionChange } from "../package-diff";
import { ARROW, capped, code, codeCell, table } from "./markdown";
import { plural } from "../plural";
import { fitParts, groupSections, Part, SectionGroup, sharedChanges, unitCount } from "./fleet";
import type { AppChanges, NameChanges, PlanSummary, SettingChange, UnitSummary, VenvChanges } from "./model";
import { hasDetails } from "./model";
import type { RequirementLineChange, RequirementsFileDiff } from "./requirements-diff";

export interface RenderOptions {
  /** Longest table or list before "... and N more" (GitHub comments hold 65536 characters). */
  readonly maxItems?: number;
  /**
   * Plan summary only: the longest text, in characters (UTF-16 code units, never fewer than
   * GitHub counts); unit sections past it are left out with a note. Infinity for all of it.
   */
  readonly maxChars?: number;
}

const DEFAULT_MAX_ITEMS = 100;
/** GitHub's comment limit is 65,536 characters; the rest is room for a CI job's own lines. */
export const DEFAULT_MAX_CHARS = 60_000;

/**
 * Append lists and lines to `lines` without spreading them into arguments: a spread of
 * 200,000 items overflows the call stack (webshare diff of two big lock files).
 */
function pushAll(lines: string[], ...parts: (readonly string[] | string)[]): void {
  for (const part of parts) {
    if (typeof part === "string") lines.push(part);
    else for (const line of part) lines.push(line);
  }
}

const versionKind = (c: VersionChange) => changeText(c, (word) => `**${word}**`);

/** Package rows: upgrades, downgrades, source changes, additions, removals; each by name. */
function packageRows(diff: PackageDiff, unknown: readonly string[] = []): string[][] {
  return [
    ...diff.upgraded.map((c) => [codeCell(c.name), `upgraded (${versionKind(c)})`, codeCell(c.from), codeCell(c.to)]),
    ...diff.downgraded.map((c) => [codeCell(c.name), `downgraded (${versionKind(c)})`, codeCell(c.from), codeCell(c.to)]),
    ...diff.changedSource.map((c) => [codeCell(c.name), "source changed", codeCell(c.from), codeCell(c.to)]),
    ...diff.added.map((p) => [codeCell(p.name), "added", "", codeCell(p.version)]),
    ...diff.removed.map((p) => [codeCell(p.name), "removed", codeCell(p.version), ""]),
    ...unknown.map((name) => [codeCell(name), "changes", "", "(known after apply)"]),
  ];
}

function cappedTable(header: readonly string[], rows: readonly string[][], maxItems: number): string[] {
  const shown = rows.slice(0, maxItems);
  const lines = table(header, shown);
  if (rows.length > shown.length) lines.push("", `... and ${rows.length - shown.length} more (see --json for all)`);
  return lines;
}

function packageTable(diff: PackageDiff, options: RenderOptions = {}, unknown: readonly string[] = []): string[] {
  return cappedTable(["Package", "Change", "From", "To"], packageRows(diff, unknown), options.maxItems ?? DEFAULT_MAX_ITEMS);
}

function byKind(changes: readonly VersionChange[]): string {
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(c.changeKind, (counts.get(c.changeKind) ?? 0) + 1);
  const parts = ["major", "minor", "patch", "calendar", "pre", "other"].filter((k) => counts.has(k)).map((k) => (k === "calendar" ? plural(counts.get(k)!, "calendar version") : `${counts.get(k)} ${k}`));
  const pre = changes.filter((c) => c.preRelease).length;
  return parts.length > 0 ? ` (${parts.join(", ")}${pre > 0 ? `; ${plural(pre, "pre-release")}` : ""})` : "";
}

/** "3 package changes: 1 upgraded (1 major), 1 added, 1 removed; 5 unchanged." */
export function packageSummaryLine(diff: PackageDiff, unknown: readonly string[] = []): string {
  const parts = [
    diff.upgraded.length > 0 && `${diff.upgraded.length} upgraded${byKind(diff.upgraded)}`,
    diff.downgraded.length > 0 && `${diff.downgraded.length} downgraded${byKind(diff.downgraded)}`,
    diff.changedSource.length > 0 && `${diff.changedSource.length} source changed`,
    diff.added.length > 0 && `${diff.added.length} added`,
    diff.removed.length > 0 && `${diff.removed.length} removed`,
    unknown.length > 0 && `${unknown.length} known after apply`,
  ].filter((p): p is string => typeof p === "string");
  const total = diff.upgraded.length + diff.downgraded.length + diff.changedSource.length + diff.added.length + diff.removed.length + unknown.length;
  if (total === 0) return `No package changes (${diff.unchanged} unchanged).`;
  return `${plural(total, "package change")}: ${parts.join(", ")}${diff.unchanged > 0 ? `; ${diff.unchanged} unchanged` : ""}.`;
}

function requirementTable(changes: readonly RequirementLineChange[], maxItems: number): string[] {
  const rows = changes.map((c) => [c.name !== undefined ? codeCell(c.name) : "", c.change, c.from !== undefined ? codeCell(c.from) : "", c.to !== undefined ? codeCell(c.to) : ""]);
  return cappedTable(["Requirement", "Change", "From", "To"], rows, maxItems);
}

// ---------------------------------------------------------------------------------------
// webshare diff OLD NEW

/** "2 requirement lines changed: 1 added, 1 changed." */
function requirementSummaryLine(changes: readonly RequirementLineChange[]): string {
  const count = (kind: RequirementLineChange["change"]) => changes.filter((c) => c.change === kind).length;
  const parts = (["added", "changed", "removed"] as const).filter((k) => count(k) > 0).map((k) => `${count(k)} ${k}`);
  return `${plural(changes.length, "requirement line")} changed: ${parts.join(", ")}.`;
}

export function renderRequirementsDiff(diff: RequirementsFileDiff, oldLabel: string, newLabel: string, options: RenderOptions = {}): string {
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const lines = [`**Packages: ${code(oldLabel)} ${ARROW} ${code(newLabel)}**`, ""];
  if (diff.packages.hasChanges) pushAll(lines, packageTable(diff.packages, options), "");
  if (diff.requirements.length > 0) pushAll(lines, ["Unpinned requirements and options:", ""], requirementTable(diff.requirements, maxItems), "");
  const pinned = diff.packages.hasChanges || diff.packages.unchanged > 0 ? [packageSummaryLine(diff.packages)] : [];
  const loose = diff.requirements.length > 0 ? [requirementSummaryLine(diff.requirements)] : [];
  lines.push(pinned.length + loose.length > 0 ? [...pinned, ...loose].join(" ") : "No changes.");
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------
// webshare plan-summary PLAN.json

const REASONS: Record<string, string> = {
  replace_because_tainted: "its last deploy failed (tainted), so it deploys again",
  replace_by_request: "replacement was requested (-replace)",
  replace_by_triggers: "a replace_triggered_by reference changed",
};

function headline(u: UnitSummary): string {
  switch (u.action) {
    case "create":
      return "new (deploys)";
    case "replace":
      return "changed (redeploys)";
    case "update":
      return "updated in place (connection settings only; no deploy)";
    case "delete":
      return u.kind === "venv" ? "removed (the venv and its files are deleted from the host)" : "removed (the app, its releases and its Apache config are deleted from the host)";
    case "forget":
      return "no longer managed (forget; left in place on the host)";
  }
}

function nameList(label: string, names: NameChanges, maxItems: number): string[] {
  const counts = [
    names.added.length > 0 && `${names.added.length} added`,
    names.changed.length > 0 && `${names.changed.length} changed`,
    names.removed.length > 0 && `${names.removed.length} removed`,
    names.unknown.length > 0 && `${names.unknown.length} known after apply`,
  ].filter((p): p is string => typeof p === "string");
  if (counts.length === 0) return [];
  const items = [
    ...names.added.map((n) => `- added ${code(n)}`),
    ...names.changed.map((n) => `- changed ${code(n)}`),
    ...names.removed.map((n) => `- removed ${code(n)}`),
    ...names.unknown.map((n) => `- ${code(n)}: known after apply`),
  ];
  return [`${label}: ${counts.join(", ")}`, "", ...capped(items, maxItems, (i) => i, (n) => `- ... and ${n} more (see --json for all)`), ""];
}

function settingLine(c: SettingChange, created = false): string {
  const name = code(c.setting);
  if (created && c.to !== undefined) return `- ${name}: ${code(c.to)}`;
  if (c.from === undefined && c.to === undefined) return `- ${name}: ${c.change}`;
  if (c.change === "added") return `- ${name}: ${code(c.to!)} (added)`;
  if (c.change === "removed") return `- ${name}: ${code(c.from!)} (removed)`;
  return `- ${name}: ${code(c.from!)} ${ARROW} ${code(c.to!)}`;
}

function settingList(label: string, settings: readonly SettingChange[], maxItems: number, created = false): string[] {
  if (settings.length === 0) return [];
  return [label, "", ...capped(settings, maxItems, (c) => settingLine(c, created), (n) => `- ... and ${n} more (see --json for all)`), ""];
}

const settingsLabel = (u: UnitSummary) => (u.action === "create" ? "Settings:" : u.action === "update" ? "Changed settings:" : "Other settings:");

function venvBody(u: UnitSummary, c: VenvChanges, maxItems: number): string[] {
  const lines: string[] = [];
  if (u.action === "delete" || u.action === "forget") {
    const n = c.packages ? plural(c.packages.removed.length, "locked package") : plural(c.requirements.length, "requirement line");
    return [`It had ${n}.`, ""];
  }
  if (c.packages?.hasChanges) pushAll(lines, packageTable(c.packages, { maxItems }, c.packages.unknown), "", packageSummaryLine(c.packages, c.packages.unknown), "");
  // With a lock, a new venv's requirement lines add nothing to its package table.
  if (c.requirements.length > 0 && !(c.hasLock && u.action === "create")) {
    const label = c.hasLock ? "Requirement lines (the lock decides what is installed):" : "Requirement lines (no lock: pip resolves these on the host):";
    lines.push(label, "", ...requirementTable(c.requirements, maxItems), "", requirementSummaryLine(c.requirements), "");
  }
  if (c.installTextOnly) lines.push("The installed file's text changes, but no package or requirement line does (comments, hashes or order).", "");
  pushAll(lines, nameList("Wheelhouse", c.wheelhouse, maxItems));
  pushAll(lines, settingList(settingsLabel(u), c.settings, maxItems, u.action === "create"));
  return lines;
}

function appBody(u: UnitSummary, c: AppChanges, maxItems: number): string[] {
  if (u.action === "delete" || u.action === "forget") return [`It had ${plural(c.files.removed.length, "file")}.`, ""];
  const lines = nameList("Files", c.files, maxItems);
  if (u.action === "create") {
    lines.push("Apache config and entry point: new.", "");
  } else {
    if (c.apacheConfig.changed || c.apacheConfig.settings.length > 0) {
      if (c.apacheConfig.settings.length > 0) pushAll(lines, settingList("Apache config changes:", c.apacheConfig.settings, maxItems));
      else lines.push("Apache config changes (the rendered text differs; no readable setting did, e.g. after a webshare-cdktf upgrade).", "");
    }
    if (c.entryPoint.changed || c.entryPoint.settings.length > 0) {
      if (c.entryPoint.settings.length > 0) pushAll(lines, settingList("Entry point changes:", c.entryPoint.settings, maxItems));
      else lines.push("Entry point changes (the rendered text differs; no readable setting did).", "");
    }
  }
  pushAll(lines, settingList(settingsLabel(u), c.settings, maxItems, u.action === "create"));
  return lines;
}

function unitBody(u: UnitSummary, maxItems: number): string[] {
  const lines: string[] = [];
  if (u.reason !== undefined && REASONS[u.reason]) lines.push(`Why: ${REASONS[u.reason]}.`, "");
  if (u.afterSensitive) lines.push("Its new settings are marked sensitive and not shown.", "");
  if (u.afterUnknown) lines.push(u.changes ? "Some of its new settings are known only after apply." : "Its new settings are known only after apply.", "");
  if (u.changes) {
    pushAll(lines, (u.changes.kind === "venv" ? venvBody(u, u.changes, maxItems) : appBody(u, u.changes, maxItems)));
    if (u.redeploys && !hasDetails(u.changes) && u.action !== "create") lines.push("No readable setting changed; it deploys again with the same content.", "");
  }
  return lines;
}

const trimmed = (lines: readonly string[]) => {
  const out = [...lines];
  while (out[out.length - 1] === "") out.pop();
  return out.join("\n");
};

/** One section; units whose sections read the same share it, listed in a folded block. */
function groupSection(group: SectionGroup, maxItems: number): string {
  const [first] = group.units;
  if (group.units.length === 1) return trimmed([`#### ${code(first!.unit)} (${first!.kind}): ${headline(first!)}`, "", ...group.body]);
  const count = unitCount(first!.kind, group.units.length, new Set(group.units.map((u) => u.host)).size);
  const list = capped(group.units, maxItems, (u) => `- ${code(u.unit)}${u.host !== undefined ? ` on ${code(u.host)}` : ""}`, (n) => `- ... and ${n} more (see --json for all)`);
  return trimmed([`#### ${count}: ${headline(first!)}`, "", `<details><summary>Which ${first!.kind}s (${group.units.length})</summary>`, "", ...list, "", "</details>", "", ...group.body]);
}

/** Changes found in units of two or more sections, so that "the same bump in 500 venvs" is said once. */
function overview(summary: PlanSummary, groups: readonly SectionGroup[], maxItems: number): string | undefined {
  const groupOf = new Map(groups.flatMap((g, i) => g.units.map((u) => [u.unit, i] as const)));
  const shared = sharedChanges(summary.units).filter((c) => new Set(c.units.map((u) => groupOf.get(u))).size > 1);
  if (shared.length === 0) return undefined;
  const lines = capped(shared, maxItems, (c) => `- ${c.text}: ${unitCount(c.kind, c.units.length, c.hosts)}`, (n) => `- ... and ${n} more shared changes (see --json for all)`);
  return ["**The same change in several units:**", "", ...lines].join("\n");
}

export function renderPlanSummary(summary: PlanSummary, options: RenderOptions = {}): string {
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const notes = summary.notes.map((n) => `> ${n}`);
  if (!summary.hasChanges) return `${["webshare: no changes to deployed units.", ...(notes.length > 0 ? ["", ...notes] : [])].join("\n")}\n`;
  const redeploy = summary.units.filter((u) => u.redeploys).length;
  const removed = summary.units.filter((u) => u.action === "delete").length;
  const counts = [redeploy > 0 && `${redeploy} to deploy`, removed > 0 && `${removed} to remove`].filter((p): p is string => typeof p === "string");
  const title = `### webshare plan: ${plural(summary.units.length, "unit")} change${summary.units.length === 1 ? "s" : ""}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}`;
  const groups = groupSections(summary.units, headline, (u) => unitBody(u, maxItems));
  const shared = overview(summary, groups, maxItems);
  const parts: Part[] = [
    { text: [title, ...(notes.length > 0 ? ["", ...notes] : [])].join("\n"), units: 0 },
    ...(shared !== undefined ? [{ text: shared, units: 0 }] : []),
    ...groups.map((g) => ({ text: groupSection(g, maxItems), units: g.units.length })),
  ];
  const limit = options.maxChars ?? DEFAULT_MAX_CHARS;
  return fitParts(parts, limit, (sections, units) =>
    [
      `> **Cut to fit a PR comment** (${limit.toLocaleString("en-US")} characters): ${plural(sections, "more section")} (${plural(units, "unit")}) not shown.`,
      "> Everything: `webshare plan-summary --full PLAN.json` (Markdown) or `--json`.",
    ].join("\n"),
  );
}
