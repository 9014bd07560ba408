/**
 * What a venv change does to its packages, from two name -> version maps as made by
 * packagesFromEntries: what a reviewer reads before approving a deploy. Pure.
 */
import { type ChangeKind, changeKind, compareVersions, isPreRelease } from "./pep440";
import { normalizeName } from "./requirements";

export interface PackageVersion {
  readonly name: string;
  readonly version: string;
}

export interface PackageChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export interface VersionChange extends PackageChange {
  readonly changeKind: ChangeKind;
  /** Set when `to` is a pre-release and the kind does not already say so (it is not "pre"). */
  readonly preRelease?: true;
}

/**
 * The change kind in words for a table cell: "major", "calendar version",
 * "major, pre-release". `emphasize` marks the words a reviewer must not miss (Markdown).
 */
export function changeText(c: VersionChange, emphasize: (word: string) => string = (w) => w): string {
  const kind = c.changeKind === "major" ? emphasize("major") : c.changeKind === "calendar" ? "calendar version" : c.changeKind;
  return c.preRelease ? `${kind}, ${emphasize("pre-release")}` : kind;
}

export interface PackageDiff {
  readonly added: PackageVersion[];
  readonly removed: PackageVersion[];
  readonly upgraded: VersionChange[];
  readonly downgraded: VersionChange[];
  /** A pin became a URL, a URL became a pin, or the URL changed. */
  readonly changedSource: PackageChange[];
  /** Same pin (by PEP 440 equality, so 1.0 -> 1.0.0 counts) or the same URL. */
  readonly unchanged: number;
  readonly hasChanges: boolean;
}

/** packagesFromEntries writes URL and editable sources as "@ <url>". */
const isSource = (value: string) => value.startsWith("@ ");

const byName = <T extends { readonly name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function normalizeKeys(packages: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(packages).map(([name, version]) => [normalizeName(name), version]));
}

export function diffPackages(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): PackageDiff {
  const old = normalizeKeys(before);
  const now = normalizeKeys(after);
  const added: PackageVersion[] = [];
  const removed: PackageVersion[] = [];
  const upgraded: VersionChange[] = [];
  const downgraded: VersionChange[] = [];
  const changedSource: PackageChange[] = [];
  let unchanged = 0;

  for (const [name, version] of old) if (!now.has(name)) removed.push({ name, version });
  for (const [name, to] of now) {
    const from = old.get(name);
    if (from === undefined) added.push({ name, version: to });
    else if (isSource(from) || isSource(to)) {
      if (from === to) unchanged++;
      else changedSource.push({ name, from, to });
    } else {
      const order = compareVersions(from, to);
      if (order === 0) unchanged++;
      else {
        const kind = changeKind(from, to);
        (order < 0 ? upgraded : downgraded).push({ name, from, to, changeKind: kind, ...(kind !== "pre" && isPreRelease(to) && { preRelease: true as const }) });
      }
    }
  }

  return {
    added: added.sort(byName),
    removed: removed.sort(byName),
    upgraded: upgraded.sort(byName),
    downgraded: downgraded.sort(byName),
    changedSource: changedSource.sort(byName),
    unchanged,
    hasChanges: added.length + removed.length + upgraded.length + downgraded.length + changedSource.length > 0,
  };
}
