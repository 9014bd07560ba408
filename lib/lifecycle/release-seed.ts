import * as path from "node:path";
import { commandLine } from "../shell";

/**
 * How a new release is seeded, and the pristine copies it is seeded from (pure: shell text out).
 *
 * A release never shares an inode with another one: each file the new release keeps is
 * COPIED, and only when its content hashes to the sha256 the manifest promises. The copy
 * comes from the app's object store (`<releases dir>/.objects/<sha256>`, 0400 in a 0700
 * dir: one pristine copy of every file content a kept release holds), else from the live
 * release. So a hand edit of the live release (`vi`, `sed -i`, `printf >>` on the host) can
 * never reach a kept release through a hard link, is not carried into the next release,
 * and the content it replaced is still in the store, from which `webshare rollback` and
 * `drift --fix` restore an edited kept release. Before this, the seed was `cp -al` (hard
 * links): an in-place edit of the live file edited every kept release holding the inode.
 *
 * Cost, measured with `node dist/bench/release-seed.js` (docs/architecture.md).
 */

/** The app's object store: one pristine copy of each file content its kept releases hold. */
export function objectStore(releasesDir: string): string {
  return path.posix.join(releasesDir, ".objects");
}

/** Python: `sha256(path)`, the hex digest of a file read in 1 MiB blocks (shared by the host scripts that hash releases). */
export const SHA256_PY = `def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()`;

/** The seed's exit code with `stopWhenIncomplete` when some files must still be uploaded (what comes after it in the same command does not run). */
export const SEED_INCOMPLETE = 75;

/**
 * The host's Python, run with the previous release dir, the new one and the object store as
 * arguments and the files to carry over (relative path -> sha256 the manifest promises) as
 * JSON on stdin. Each file is read once (from the store, else from the previous release),
 * hashed and written to a new file created 0600 in the new release (the release dir is 0700
 * while it is built), then given the live file's mode (and mtime). A file that no source
 * holds with its promised sha256 is not kept: its name is printed (JSON list, with the
 * names whose live copy differs) and the deploy uploads it.
 */
const SEED_PY = `import hashlib, json, os, stat, sys
prev, new, store = sys.argv[1], sys.argv[2], sys.argv[3]
want = json.load(sys.stdin)
made, edited, missing = set(), [], []
def copy(src, dst, sha, mode, times):
    h = hashlib.sha256()
    with open(src, "rb") as fi, os.fdopen(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fo:
        for block in iter(lambda: fi.read(1 << 20), b""):
            h.update(block)
            fo.write(block)
    if h.hexdigest() != sha:
        os.unlink(dst)
        return False
    os.chmod(dst, mode)
    if times:
        os.utime(dst, ns=times)
    return True
${SHA256_PY}
for rel in sorted(want):
    src, dst, sha = os.path.join(prev, rel), os.path.join(new, rel), want[rel]
    try:
        d = os.path.dirname(dst)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        try:
            st = os.lstat(src)
            live = stat.S_ISREG(st.st_mode)
        except OSError:
            live = False
        intact = live and sha256(src) == sha
        if live and not intact:
            edited.append(rel)
        mode, times = (stat.S_IMODE(st.st_mode), (st.st_atime_ns, st.st_mtime_ns)) if live else (0o600, None)
        obj = os.path.join(store, sha)
        if os.path.isfile(obj) and copy(obj, dst, sha, mode, times):
            continue
        if intact and copy(src, dst, sha, mode, times):
            continue
        missing.append(rel)
    except OSError:
        try:
            os.unlink(dst)
        except OSError:
            pass
        missing.append(rel)
print(json.dumps({"upload": missing, "edited": edited}))
sys.exit(${SEED_INCOMPLETE} if missing and sys.argv[4:] == ["stop"] else 0)
`;

/**
 * Shell text: copy into `releaseDir` (which must exist) the files named on stdin (JSON:
 * relative path -> sha256) from the object store, else from `previousDir`, each only with
 * that content; prints JSON `{upload, edited}`: the files it could not copy (to upload) and
 * those whose live copy differs from what was deployed. With `stopWhenIncomplete` it exits
 * SEED_INCOMPLETE when there are files to upload.
 */
export function seedReleaseScript(python: string, previousDir: string, releaseDir: string, store: string, options: { stopWhenIncomplete?: boolean } = {}): string {
  return commandLine([python, "-c", SEED_PY, previousDir, releaseDir, store, ...(options.stopWhenIncomplete === true ? ["stop"] : [])]);
}

/**
 * The host's Python, run after a deploy with the releases dir, the store and the release
 * that now serves: every file of that release whose content the store lacks is copied in
 * (checked against its manifest's sha256 while it is copied, 0400, temp file + rename), then
 * every object that no release left in the releases dir names in its manifest is removed.
 * Prints how many objects were added and removed.
 */
const STORE_PY = `import hashlib, json, os, sys
releases, store, current = sys.argv[1], sys.argv[2], sys.argv[3]
def manifest(d):
    try:
        with open(os.path.join(d, ".webshare-manifest.json"), encoding="utf-8") as f:
            m = json.load(f)
        return m if isinstance(m, dict) else {}
    except (OSError, ValueError):
        return {}
os.makedirs(store, mode=0o700, exist_ok=True)
os.chmod(store, 0o700)
added = removed = 0
cur = os.path.join(releases, current)
for rel, sha in manifest(cur).items():
    obj = os.path.join(store, sha)
    if len(sha) != 64 or os.path.exists(obj):
        continue
    tmp = obj + ".tmp-%d" % os.getpid()
    try:
        h = hashlib.sha256()
        with open(os.path.join(cur, rel), "rb") as fi, os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400), "wb") as fo:
            for block in iter(lambda: fi.read(1 << 20), b""):
                h.update(block)
                fo.write(block)
        if h.hexdigest() == sha:
            os.replace(tmp, obj)
            added += 1
        else:
            os.unlink(tmp)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
named = set()
for n in os.listdir(releases):
    d = os.path.join(releases, n)
    if len(n) == 16 and all(c in "0123456789abcdef" for c in n) and os.path.isdir(d) and not os.path.islink(d):
        named.update(manifest(d).values())
for n in os.listdir(store):
    if n not in named:
        os.unlink(os.path.join(store, n))
        removed += 1
print(added, removed)
`;

/** Shell text: fill the object store from the release that serves, and drop what no kept release names. */
export function storeObjectsScript(python: string, releasesDir: string, current: string): string {
  return commandLine([python, "-c", STORE_PY, releasesDir, objectStore(releasesDir), current]);
}

/** The files to carry over from the live release: unchanged between its manifest and the new one (pure). */
export function carriedOver(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>, except: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(Object.entries(after).filter(([f, sha]) => before[f] === sha && !except.includes(f)));
}

export interface SeedResult {
  /** Files no source held with their deployed content: the deploy uploads them. */
  readonly upload: string[];
  /** Files of the live release that differ from what was deployed into it. */
  readonly edited: string[];
}

/** What the seed script printed; undefined when the answer is not that. */
export function parseSeedOutput(stdout: string): SeedResult | undefined {
  const names = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === "string");
  try {
    const parsed = JSON.parse(stdout.trim()) as { upload?: unknown; edited?: unknown } | null;
    return parsed !== null && names(parsed.upload) && names(parsed.edited) ? { upload: parsed.upload, edited: parsed.edited } : undefined;
  } catch {
    return undefined;
  }
}
