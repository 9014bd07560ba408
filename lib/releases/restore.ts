import * as path from "node:path";

/**
 * How a kept release that was edited on the host is put back to what was deployed into it
 * (pure: what differs and what the host holds in, a plan out). Every file it should hold is
 * named with its sha256 in its manifest; a file whose content changed or went missing is
 * copied from any release on the host that still holds that exact content (the same path
 * first, else any path with that sha256), and a file that was not deployed is removed. When
 * some deployed content is held nowhere on the host, the release cannot be restored.
 */
export interface EditedFile {
  readonly path: string;
  readonly problem: "changed" | "missing" | "unexpected";
  /** sha256 the manifest names (changed, missing). */
  readonly desired?: string;
}

/** A release dir on the host and the sha256 of each of its files as they are now. */
export interface RestoreSource {
  readonly dir: string;
  readonly files: Readonly<Record<string, string>>;
}

export interface RestoreCopy {
  /** Absolute path of a file that holds the content now. */
  readonly from: string;
  /** Path inside the release being restored. */
  readonly to: string;
  readonly sha256: string;
}

export interface RestorePlan {
  readonly dir: string;
  readonly copies: RestoreCopy[];
  readonly remove: string[];
  /** Deployed files whose content no release on the host holds any more. */
  readonly unavailable: string[];
}

export function planRestore(dir: string, edited: readonly EditedFile[], sources: readonly RestoreSource[]): RestorePlan {
  const copies: RestoreCopy[] = [];
  const remove: string[] = [];
  const unavailable: string[] = [];
  let byContent: Map<string, string> | undefined;
  for (const f of edited) {
    if (f.problem === "unexpected") {
      remove.push(f.path);
      continue;
    }
    const want = f.desired!;
    const samePath = sources.find((s) => s.files[f.path] === want);
    byContent ??= contentIndex(sources);
    const from = samePath !== undefined ? path.posix.join(samePath.dir, f.path) : byContent.get(want);
    if (from === undefined) unavailable.push(f.path);
    else copies.push({ from, to: f.path, sha256: want });
  }
  return { dir, copies, remove, unavailable };
}

/** sha256 -> the first file (absolute path) holding that content. */
function contentIndex(sources: readonly RestoreSource[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const s of sources) for (const [p, sha] of Object.entries(s.files)) if (!index.has(sha)) index.set(sha, path.posix.join(s.dir, p));
  return index;
}
