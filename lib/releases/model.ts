import { diffPackages, PackageDiff } from "../package-diff";
import { packagesFromEntries, parseRequirements } from "../requirements";

/**
 * The venvs or app releases a unit keeps on its host, as listed there, and what a user
 * wants to know about them: which one serves, which one a rollback would switch to, how
 * old each is and how it differs from the current one. Pure.
 */
export interface KeptDir {
  readonly id: string;
  /** Built completely (`.webshare-ready`); a half-built dir is never a rollback target. */
  readonly ready: boolean;
  /** Host epoch seconds the dir became ready (or was made, if not ready). */
  readonly builtAt: number;
  /** `.webshare-freeze.txt` of a venv, `.webshare-manifest.json` of a release. */
  readonly detail?: string;
}

export interface KeptListing {
  /** Host epoch seconds, so ages need no clock agreement with this machine. */
  readonly now: number;
  readonly current?: string;
  /** Ids in the order they became current by a deploy (newest last), from `.history`. */
  readonly history: readonly string[];
  readonly dirs: readonly KeptDir[];
}

/**
 * Ready dirs that have served, oldest first, in deploy history order. A ready dir outside
 * the history never served: its deploy failed its health check and was switched back.
 */
export function orderKept(listing: KeptListing): KeptDir[] {
  const byId = new Map(listing.dirs.filter((d) => d.ready).map((d) => [d.id, d]));
  const seen = new Set<string>();
  const ordered: KeptDir[] = [];
  for (const id of [...listing.history].reverse()) {
    const dir = byId.get(id);
    if (dir !== undefined && !seen.has(id)) ordered.unshift(dir);
    seen.add(id);
  }
  return ordered;
}

/** Ready dirs that never served (failed deploys), newest first. */
export function neverServed(listing: KeptListing): KeptDir[] {
  const served = new Set(listing.history);
  return listing.dirs.filter((d) => d.ready && !served.has(d.id) && d.id !== listing.current).sort((a, b) => b.builtAt - a.builtAt);
}

/**
 * What `rollback` switches to: the dir deployed before the current one. Stepping back twice
 * goes two deploys back (a rollback does not rewrite the history). Never a dir that never served.
 */
export function previousOf(listing: KeptListing): string | undefined {
  const ordered = orderKept(listing).map((d) => d.id);
  const at = listing.current === undefined ? -1 : ordered.indexOf(listing.current);
  const before = at === -1 ? ordered.filter((id) => id !== listing.current) : ordered.slice(0, at);
  return before[before.length - 1];
}

function packagesOfFreeze(freeze: string): Record<string, string> {
  return packagesFromEntries(parseRequirements(freeze).entries);
}

function filesOfManifest(manifest: string): Record<string, string> {
  try {
    const parsed = JSON.parse(manifest) as unknown;
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export interface FileChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

export function diffFiles(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): FileChanges {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return {
    added: names.filter((n) => before[n] === undefined),
    removed: names.filter((n) => after[n] === undefined),
    changed: names.filter((n) => before[n] !== undefined && after[n] !== undefined && before[n] !== after[n]),
  };
}

export interface KeptSummary {
  readonly id: string;
  readonly current: boolean;
  /** The one `webshare rollback` switches to. */
  readonly rollbackTarget: boolean;
  /** Built, but its deploy failed and was switched back: it never served. */
  readonly neverServed: boolean;
  readonly ageSeconds: number;
  /** Venvs: packages from pip freeze, and what switching from the current venv to this one changes. */
  readonly packages?: Record<string, string>;
  readonly packageChanges?: PackageDiff;
  /** Releases: file count, and what switching from the current release to this one changes. */
  readonly fileCount?: number;
  readonly fileChanges?: FileChanges;
}

/** Newest deploy first, then the ones that never served, as a listing reads. */
export function summarize(kind: "venv" | "app", listing: KeptListing): KeptSummary[] {
  const previous = previousOf(listing);
  const served = orderKept(listing).reverse();
  const failed = neverServed(listing);
  const currentDir = listing.dirs.find((d) => d.id === listing.current);
  // The serving dir is listed even when the history does not name it (served before history was kept).
  const extra = currentDir !== undefined && !served.includes(currentDir) ? [currentDir] : [];
  const summary = (d: KeptDir): KeptSummary => {
    const base = {
      id: d.id,
      current: d.id === listing.current,
      rollbackTarget: d.id === previous,
      neverServed: failed.includes(d),
      ageSeconds: Math.max(0, Math.round(listing.now - d.builtAt)),
    };
    const comparable = currentDir !== undefined && !base.current;
    if (kind === "venv") {
      const packages = packagesOfFreeze(d.detail ?? "");
      return { ...base, packages, packageChanges: comparable ? diffPackages(packagesOfFreeze(currentDir.detail ?? ""), packages) : undefined };
    }
    const files = filesOfManifest(d.detail ?? "{}");
    return { ...base, fileCount: Object.keys(files).length, fileChanges: comparable ? diffFiles(filesOfManifest(currentDir.detail ?? "{}"), files) : undefined };
  };
  return [...extra, ...served, ...failed].map(summary);
}
