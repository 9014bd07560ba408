import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { errors } from "./errors";
import { walkSourceTree } from "./source-tree";

/**
 * Local file I/O for synth and apply: hashing an app's source tree and reading small
 * files. Kept apart from the pure code that decides what to do with the results.
 */

/**
 * Names skipped in every app source tree. `.env*` (dotenv files hold secrets) and `.git`
 * (history, often with secrets once committed) go up only when the app names them in its
 * `include`; a WsgiApp's `exclude` adds to this list.
 */
export const DEFAULT_EXCLUDES: readonly string[] = ["__pycache__", "*.pyc", ".git", ".gitignore", ".venv", "venv", "node_modules", ".DS_Store", ".env*"];

/**
 * The exclude list of an app: the defaults minus the ones `include` names, plus `exclude`.
 * Returns the problems of an `include` entry that is not a default pattern (pure).
 */
export function effectiveExcludes(exclude: readonly string[] = [], include: readonly string[] = []): { excludes: string[]; problems: string[] } {
  const problems = include
    .filter((i) => !DEFAULT_EXCLUDES.includes(i))
    .map((i) => `include ${JSON.stringify(i)} is not one of the default excludes (${DEFAULT_EXCLUDES.map((d) => JSON.stringify(d)).join(", ")}); include only takes those back out of the defaults`);
  // An entry in both include and exclude stays excluded.
  const excludes = [...DEFAULT_EXCLUDES.filter((d) => !include.includes(d)), ...exclude];
  return { excludes: [...new Set(excludes)], problems };
}

/** Matches a basename against simple globs (`*`, `?`) or a relative path exactly. */
export function isExcluded(relativePath: string, patterns: readonly string[]): boolean {
  const segments = relativePath.split("/");
  return patterns.some((pattern) => {
    if (pattern.includes("/")) return relativePath === pattern || relativePath.startsWith(pattern + "/");
    const regex = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    return segments.some((segment) => regex.test(segment));
  });
}

/** Content hash cache keyed by path, size and mtime, so a re-synth does not re-read files. */
const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

function fileSha256(file: string): string {
  const stat = fs.statSync(file);
  const cached = hashCache.get(file);
  if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.sha256;
  const sha256 = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  hashCache.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
  return sha256;
}

/**
 * Why the app source tree under `root` cannot be uploaded (a symlink leaving the tree, a
 * dangling link, a non-UTF-8 name, an unreadable entry), one line each; empty when it can.
 */
export function sourceTreeProblems(root: string, excludes: readonly string[]): string[] {
  return walkSourceTree(root, (relative) => isExcluded(relative, excludes)).problems;
}

/**
 * Relative path (posix) -> sha256 for every regular file under `root`, sorted; a symlink to
 * a file inside the tree counts with its target's content (what the upload reads). Throws
 * when the tree holds anything lib/source-tree.ts refuses, so apply's re-hash refuses too.
 */
export function hashTree(root: string, excludes: readonly string[]): Record<string, string> {
  const walked = walkSourceTree(root, (relative) => isExcluded(relative, excludes));
  if (walked.problems.length > 0) throw errors.unsafeSourceTree(root, walked.problems);
  return Object.fromEntries(Object.entries(walked.files).map(([relative, full]) => [relative, fileSha256(full)]));
}

/** Files of a flat directory (a wheelhouse) -> sha256. */
export function hashFlatDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isFile()) out[name] = fileSha256(full);
  }
  return out;
}
