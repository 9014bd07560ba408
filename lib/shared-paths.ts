import * as path from "node:path";

/**
 * `WsgiApp.sharedPaths`: directories inside the release that are symlinks into the app's
 * shared directory outside the releases, so what the app writes there (uploads, a sqlite
 * database, media) survives every deploy and rollback. Pure: paths in, problems out.
 */

/** What the check needs to know about the app. */
export interface SharedPathContext {
  /** Kind of the local source entry at a release-relative path (undefined: none, or excluded from the upload). */
  readonly sourceEntry: (relative: string) => "file" | "dir" | undefined;
  /** File name of the generated entry point inside the release. */
  readonly entryPointName: string;
  /** Static directories inside the release (Apache serves them to everyone). */
  readonly staticDirs: readonly string[];
}

/** Names inside a release that are webshare's own. */
const OWN_NAMES = [".webshare-manifest.json", ".webshare-ready"];

const overlap = (a: string, b: string) => a === b || a.startsWith(b + "/") || b.startsWith(a + "/");

/** Normalise one entry ("uploads/" -> "uploads"); undefined when it is not a path inside the release. */
export function normalizeSharedPath(entry: string): string | undefined {
  if (entry.startsWith("/") || /[\0\r\n\\]/.test(entry)) return undefined;
  const normalized = path.posix.normalize(entry).replace(/\/+$/, "");
  if (normalized === "." || normalized === "" || normalized === ".." || normalized.startsWith("../")) return undefined;
  return normalized;
}

/** Problems with the `sharedPaths` prop, each naming the entry and what to do. */
export function sharedPathProblems(entries: readonly string[], app: SharedPathContext): string[] {
  const problems: string[] = [];
  const seen: string[] = [];
  for (const entry of entries) {
    const at = `sharedPaths entry ${JSON.stringify(entry)}`;
    const p = normalizeSharedPath(entry);
    if (p === undefined) {
      problems.push(`${at} must be a directory path inside the release, relative to it (no "..", not "." or absolute)`);
      continue;
    }
    const clash = seen.find((other) => overlap(p, other));
    if (clash !== undefined) {
      problems.push(`${at} ${p === clash ? "is listed twice" : `overlaps ${JSON.stringify(clash)}`}; shared paths must be separate (not equal, neither inside the other)`);
      continue;
    }
    seen.push(p);
    const first = p.split("/")[0]!;
    if (first === app.entryPointName || OWN_NAMES.includes(first)) {
      problems.push(`${at} is the generated entry point or webshare's own bookkeeping; choose another directory`);
      continue;
    }
    const staticDir = app.staticDirs.find((d) => overlap(p, d));
    if (staticDir !== undefined) {
      problems.push(`${at} overlaps the static directory ${JSON.stringify(staticDir)}: Apache serves static files to everyone, shared data stays private to the app; serve uploads through the app, or choose another directory`);
      continue;
    }
    // The path itself, or a file on the way to it, comes from the app source: the upload and the link would fight.
    const parts = p.split("/");
    const inSource = parts.map((_, i) => parts.slice(0, i + 1).join("/")).find((prefix) => {
      const kind = app.sourceEntry(prefix);
      return kind === "file" || (kind === "dir" && prefix === p);
    });
    if (inSource !== undefined) {
      problems.push(
        `${at} is also in the app source (${JSON.stringify(inSource)}): shared data is never uploaded, and the release holds a link there; ` +
          `move those files out of the source, or add ${JSON.stringify(inSource)} to exclude`,
      );
    }
  }
  return problems;
}
