/**
 * Differences between two requirement files (locks, `pip freeze` output, hand-written
 * requirements) or two lists of requirement lines, as reviewers read them: pinned
 * packages as versions (PackageDiff), everything else (ranges, options) as lines paired by
 * package name. Pure: text in, data out.
 */
import { type PackageDiff, diffPackages } from "../package-diff";
import { type RequirementEntry, type RequirementParseError, packagesFromEntries, parseRequirements } from "../requirements";

/** A requirement line that differs; `name` pairs an old and a new line of the same package. */
export interface RequirementLineChange {
  readonly change: "added" | "removed" | "changed";
  /** Normalised package name when the line names one. */
  readonly name?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface RequirementsFileDiff {
  /** Pinned (`==`/`===`), URL and editable entries: what a lock installs. */
  readonly packages: PackageDiff;
  /** Unpinned requirements (`name>=1`) and option lines (`--index-url ...`). */
  readonly requirements: RequirementLineChange[];
  readonly hasChanges: boolean;
}

interface Line {
  /** Logical line: continuations joined, comment removed, whitespace collapsed. */
  readonly text: string;
  readonly name?: string;
}

const collapse = (s: string) => s.trim().replace(/\s+/g, " ");
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One Line per logical line; an option line that parsed into several entries stays one line. */
function linesOf(entries: readonly RequirementEntry[], errors: readonly RequirementParseError[] = []): Line[] {
  const byLine = new Map<number, Line>();
  for (const e of entries) {
    if (byLine.has(e.line)) continue;
    const name = e.kind === "option" ? undefined : e.name;
    byLine.set(e.line, { text: collapse(e.raw), ...(name !== undefined && { name }) });
  }
  for (const e of errors) byLine.set(e.line, { text: collapse(e.raw) });
  return [...byLine].sort(([a], [b]) => a - b).map(([, line]) => line);
}

/** Lines compared as a multiset (order does not matter to pip), then paired by package name. */
function diffLines(before: readonly Line[], after: readonly Line[]): RequirementLineChange[] {
  const remaining = new Map<string, number>();
  for (const l of before) remaining.set(l.text, (remaining.get(l.text) ?? 0) + 1);
  const added: Line[] = [];
  for (const l of after) {
    const n = remaining.get(l.text) ?? 0;
    if (n > 0) remaining.set(l.text, n - 1);
    else added.push(l);
  }
  const removed: Line[] = [];
  for (const l of before) {
    const n = remaining.get(l.text) ?? 0;
    if (n > 0) {
      remaining.set(l.text, n - 1);
      removed.push(l);
    }
  }

  // Removed lines by name, first first: pairing is linear, so 200,000-line files diff in seconds.
  const removedByName = new Map<string, Line[]>();
  for (const r of removed) if (r.name !== undefined) removedByName.set(r.name, [...(removedByName.get(r.name) ?? []), r]);
  const paired = new Set<Line>();
  const changes: RequirementLineChange[] = [];
  for (const l of added) {
    const candidates = l.name === undefined ? undefined : removedByName.get(l.name);
    const match = candidates?.shift();
    if (match !== undefined) {
      changes.push({ change: "changed", name: l.name, from: match.text, to: l.text });
      paired.add(match);
    } else changes.push({ change: "added", ...(l.name !== undefined && { name: l.name }), to: l.text });
  }
  for (const l of removed) if (!paired.has(l)) changes.push({ change: "removed", ...(l.name !== undefined && { name: l.name }), from: l.text });
  const key = (c: RequirementLineChange) => c.name ?? c.to ?? c.from ?? "";
  return changes.sort((a, b) => compareText(key(a), key(b)));
}

/**
 * Changed requirement lines, e.g. of a venv's `requirements` in two plans. Lines are parsed
 * together, so a `\` continuation (hashes on their own lines) is one requirement.
 */
export function diffRequirementLines(before: readonly string[], after: readonly string[]): RequirementLineChange[] {
  const parse = (lines: readonly string[]) => {
    const parsed = parseRequirements(lines.join("\n"));
    return linesOf(parsed.entries, parsed.errors);
  };
  return diffLines(parse(before), parse(after));
}

/** Two parsed files: the caller reports parse errors first (they are not diffed silently). */
export function diffRequirementEntries(before: readonly RequirementEntry[], after: readonly RequirementEntry[]): RequirementsFileDiff {
  const packages = diffPackages(packagesFromEntries(before), packagesFromEntries(after));
  const loose = (entries: readonly RequirementEntry[]) => linesOf(entries.filter((e) => e.kind === "specifier" || e.kind === "option"));
  const requirements = diffLines(loose(before), loose(after));
  return { packages, requirements, hasChanges: packages.hasChanges || requirements.length > 0 };
}
