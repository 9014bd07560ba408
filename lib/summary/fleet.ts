/**
 * Plans of a fleet, for a PR comment that GitHub limits to 65,536 characters: the same change
 * in many units is said once ("`webshare-greeting` upgraded 1.0.0 → 2.0.0: 500 venvs on 10
 * hosts"), units whose sections would read the same share one section, and what still does
 * not fit is cut with a note that says where the full text is. Pure.
 */
import { ARROW, code } from "./markdown";
import { plural } from "../plural";
import type { NameChanges, SettingChange, UnitSummary } from "./model";

/** One change found in two or more units. */
export interface SharedChange {
  readonly kind: "venv" | "app";
  /** Markdown, e.g. "`flask` upgraded (major) `2.3.3` → `3.0.3`". */
  readonly text: string;
  readonly units: string[];
  /** Distinct `user@host:port` of those units. */
  readonly hosts: number;
}

function settingItem(c: SettingChange): string {
  if (c.from === undefined && c.to === undefined) return `${code(c.setting)} ${c.change}`;
  if (c.from === undefined) return `${code(c.setting)} ${c.change === "added" ? "added: " : "= "}${code(c.to!)}`;
  if (c.to === undefined) return `${code(c.setting)} removed (was ${code(c.from)})`;
  return `${code(c.setting)} ${code(c.from)} ${ARROW} ${code(c.to)}`;
}

function nameItems(label: string, names: NameChanges): string[] {
  return [
    ...names.added.map((n) => `${label} ${code(n)} added`),
    ...names.changed.map((n) => `${label} ${code(n)} changed`),
    ...names.removed.map((n) => `${label} ${code(n)} removed`),
    ...names.unknown.map((n) => `${label} ${code(n)} known after apply`),
  ];
}

/** Every single change of a unit, each as one line of Markdown. */
export function changeItems(u: UnitSummary): string[] {
  const c = u.changes;
  if (c === undefined || u.action === "delete" || u.action === "forget") return [];
  if (c.kind === "venv") {
    const p = c.packages;
    return [
      ...(p?.upgraded ?? []).map((v) => `${code(v.name)} upgraded (${v.changeKind}) ${code(v.from)} ${ARROW} ${code(v.to)}`),
      ...(p?.downgraded ?? []).map((v) => `${code(v.name)} downgraded (${v.changeKind}) ${code(v.from)} ${ARROW} ${code(v.to)}`),
      ...(p?.changedSource ?? []).map((v) => `${code(v.name)} source ${code(v.from)} ${ARROW} ${code(v.to)}`),
      ...(p?.added ?? []).map((v) => `${code(v.name)} added ${code(v.version)}`),
      ...(p?.removed ?? []).map((v) => `${code(v.name)} removed (was ${code(v.version)})`),
      ...(p?.unknown ?? []).map((name) => `${code(name)} known after apply`),
      ...c.requirements.map((r) => (r.change === "changed" ? `requirement ${code(r.from!)} ${ARROW} ${code(r.to!)}` : `requirement ${code((r.to ?? r.from)!)} ${r.change}`)),
      ...nameItems("wheel", c.wheelhouse),
      ...c.settings.map(settingItem),
    ];
  }
  return [...nameItems("file", c.files), ...[...c.apacheConfig.settings, ...c.entryPoint.settings, ...c.settings].map(settingItem)];
}

/** Changes that two or more units share, most widespread first. */
export function sharedChanges(units: readonly UnitSummary[]): SharedChange[] {
  const byItem = new Map<string, { kind: "venv" | "app"; text: string; units: string[]; hosts: Set<string> }>();
  for (const u of units) {
    for (const text of new Set(changeItems(u))) {
      const key = `${u.kind}\0${text}`;
      const entry = byItem.get(key) ?? { kind: u.kind, text, units: [], hosts: new Set<string>() };
      entry.units.push(u.unit);
      if (u.host !== undefined) entry.hosts.add(u.host);
      byItem.set(key, entry);
    }
  }
  return [...byItem.values()]
    .filter((e) => e.units.length > 1)
    .map((e) => ({ kind: e.kind, text: e.text, units: e.units, hosts: e.hosts.size }))
    .sort((a, b) => b.units.length - a.units.length || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

/** "500 venvs on 10 hosts", "2 apps". */
export function unitCount(kind: "venv" | "app", units: number, hosts: number): string {
  return `${plural(units, kind)}${hosts > 1 ? ` on ${hosts} hosts` : ""}`;
}

/** Units whose whole section reads the same: one section, the units listed under it. */
export interface SectionGroup {
  readonly units: UnitSummary[];
  /** The section without its heading. */
  readonly body: string[];
}

export function groupSections(units: readonly UnitSummary[], heading: (u: UnitSummary) => string, body: (u: UnitSummary) => string[]): SectionGroup[] {
  const groups = new Map<string, SectionGroup>();
  for (const u of units) {
    const lines = body(u);
    const key = `${u.kind}\0${heading(u)}\0${lines.join("\n")}`;
    const group = groups.get(key);
    if (group) group.units.push(u);
    else groups.set(key, { units: [u], body: lines });
  }
  return [...groups.values()];
}

/** A block of the summary; `units` is how many units it describes (0 for the heading, notes, overview). */
export interface Part {
  readonly text: string;
  readonly units: number;
}

/**
 * The parts joined (blank line between) until `maxChars`; the parts that do not fit are left
 * out, in order, and `cutNote(parts left out, units they describe)` is added, so the text never
 * exceeds `maxChars`. A part is never cut in the middle: a table or `<details>` stays whole.
 */
export function fitParts(parts: readonly Part[], maxChars: number, cutNote: (sections: number, units: number) => string): string {
  const joined = parts.map((p) => p.text).join("\n\n");
  if (joined.length + 1 <= maxChars) return `${joined}\n`;
  const noteFor = (from: number) => cutNote(parts.length - from, parts.slice(from).reduce((n, p) => n + p.units, 0));
  const shown: string[] = [];
  let length = 0;
  let index = 0;
  for (; index < parts.length; index++) {
    const next = length + (shown.length > 0 ? 2 : 0) + parts[index]!.text.length;
    // Room for this part and, after it, the note about the parts still to come.
    if (next + 2 + noteFor(index + 1).length + 1 > maxChars) break;
    shown.push(parts[index]!.text);
    length = next;
  }
  const text = [...shown, noteFor(index)].join("\n\n");
  return `${text.length + 1 > maxChars ? text.slice(0, maxChars - 1) : text}\n`;
}
