import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";

/**
 * Local file I/O for synth and apply: hashing an app's source tree and reading small
 * files. Kept apart from the pure code that decides what to do with the results.
 */

/** Names skipped in every app source tree. */
export const DEFAULT_EXCLUDES: readonly string[] = ["__pycache__", "*.pyc", ".git", ".gitignore", ".venv", "venv", "node_modules", ".DS_Store"];

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

export function fileSha256(file: string): string {
  const stat = fs.statSync(file);
  const cached = hashCache.get(file);
  if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.sha256;
  const sha256 = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  hashCache.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
  return sha256;
}

/** Relative path (posix) -> sha256 for every regular file under `root`, sorted. */
export function hashTree(root: string, excludes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (isExcluded(relative, excludes)) continue;
      const full = path.join(dir, entry.name);
      const stat = fs.statSync(full); // follows symlinks: the target's content is what gets uploaded
      if (stat.isDirectory()) {
        if (!entry.isSymbolicLink()) walk(full, relative);
      } else if (stat.isFile()) {
        out[relative] = fileSha256(full);
      }
    }
  };
  walk(root, "");
  return out;
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
