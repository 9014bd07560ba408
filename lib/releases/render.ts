import { plural } from "../plural";
import type { PackageDiff } from "../package-diff";
import type { FileChanges, KeptSummary } from "./model";

/**
 * `webshare releases` as text: one table per unit, newest first, `*` on the one serving
 * and `<` on the one `webshare rollback` switches to. Pure.
 */
export interface UnitListing {
  readonly unit: string;
  readonly kind: "venv" | "app";
  readonly target: string;
  /** Home-relative path of the venv or app-dir symlink. */
  readonly link: string;
  readonly keep: number;
  readonly entries: readonly KeptSummary[];
}

export function age(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** What switching from the serving venv to this one changes, as "name old -> new" items. */
function packageChangeText(d: PackageDiff): string {
  const items = [
    ...d.upgraded.map((c) => `${c.name} ${c.from} -> ${c.to}`),
    ...d.downgraded.map((c) => `${c.name} ${c.from} -> ${c.to}`),
    ...d.changedSource.map((c) => `${c.name} ${c.from} -> ${c.to}`),
    ...d.added.map((p) => `+${p.name} ${p.version}`),
    ...d.removed.map((p) => `-${p.name} ${p.version}`),
  ];
  return items.length === 0 ? "same packages" : `switching to it: ${items.slice(0, 6).join(", ")}${items.length > 6 ? `, ... ${items.length - 6} more` : ""}`;
}

function fileChangeText(c: FileChanges): string {
  const parts = [
    c.changed.length > 0 ? `${c.changed.length} changed (${c.changed.slice(0, 3).join(", ")}${c.changed.length > 3 ? ", ..." : ""})` : "",
    c.added.length > 0 ? `${c.added.length} added` : "",
    c.removed.length > 0 ? `${c.removed.length} removed` : "",
  ].filter((p) => p !== "");
  return parts.length === 0 ? "same files" : `switching to it: ${parts.join(", ")}`;
}

function describe(kind: "venv" | "app", e: KeptSummary): [string, string] {
  if (kind === "venv") {
    return [plural(Object.keys(e.packages ?? {}).length, "package"), e.current ? "serving" : e.packageChanges ? packageChangeText(e.packageChanges) : ""];
  }
  return [plural(e.fileCount ?? 0, "file"), e.current ? "serving" : e.fileChanges ? fileChangeText(e.fileChanges) : ""];
}

export function renderReleasesText(units: readonly UnitListing[]): string {
  const blocks = units.map((u) => {
    const what = u.kind === "venv" ? "venvs" : "releases";
    const head = `${u.unit} on ${u.target}: ${u.entries.length} ${what} kept for ${u.link} (keep ${u.keep} previous)`;
    if (u.entries.length === 0) return `${head}\n  (none: nothing deployed yet)\n`;
    const rows = u.entries.map((e) => {
      const [size, change] = describe(u.kind, e);
      const mark = e.current ? "*" : e.rollbackTarget ? "<" : e.neverServed ? "x" : " ";
      return [`${mark} ${e.id}`, age(e.ageSeconds), size, e.neverServed ? `never served (its deploy failed); ${change}` : change];
    });
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    const lines = rows.map((r) => `  ${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")}`.trimEnd());
    return [head, ...lines, ""].join("\n");
  });
  const legend = "* serving   < what `webshare rollback` switches to   x never served   age: since it was built\n";
  return blocks.join("\n") + legend;
}
