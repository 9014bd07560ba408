/**
 * Remote paths may not hit the account's own plumbing, nor overlap each other. A deploy
 * replaces what sits at its paths (symlink switches, `rm -rf` of old releases and venvs), so
 * an app dir at `.ssh` would lock the account out of SSH for good, and an app dir equal to
 * (or containing) a venv would serve or delete it. Pure: home-relative paths in, problems out.
 */

/** webshare's own state directory on the host (lock, unit records, Apache snippets, wheelhouse). */
export const STATE_DIR = ".webshare";

/** Home entries no construct may use, be inside of, or contain, and why. */
const PLUMBING: ReadonlyMap<string, string> = new Map([
  [".ssh", "the account's SSH directory (authorized_keys): a deploy there locks the account out of SSH"],
  ...[".profile", ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".login", ".logout", ".kshrc", ".mkshrc"].map(
    (name) => [name, "a shell startup file: a deploy there breaks or hijacks the account's logins"] as const,
  ),
  [STATE_DIR, "webshare's own state directory (host lock, unit records, Apache snippets, wheelhouse)"],
]);

const ALLOWED = 'use a path of its own, e.g. under "public" or "private" (the hoster\'s layout), or "apps/<name>/..."';

/** Why a home-relative path is the account's plumbing, or undefined when it is not. */
export function plumbingProblem(relative: string): string | undefined {
  const first = relative.split("/")[0]!;
  const why = PLUMBING.get(first);
  if (why === undefined) return undefined;
  return `${relative === first ? "is" : "lies inside"} ${first}, ${why}; ${ALLOWED}`;
}

/** One remote path a construct owns. */
export interface PathClaim {
  /** Construct path, e.g. "demo/blog". */
  readonly by: string;
  /** The prop it comes from, and how, e.g. `appDir` or `releases directory (from appDir)`. */
  readonly field: string;
  /** Home-relative, normalised. */
  readonly path: string;
}

/** Equal, or one inside the other. */
export function pathsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(b + "/") || b.startsWith(a + "/");
}

const show = (c: PathClaim) => `${c.field} ${JSON.stringify(c.path)}`;
const relation = (a: PathClaim, b: PathClaim) => (a.path === b.path ? "is the same path as" : a.path.startsWith(b.path + "/") ? "lies inside" : "contains");

/**
 * Overlapping claims of ONE construct, e.g. `path "public" contains requirementsPath
 * "public/requirements.txt"; ...`. Only the construct's own paths are compared.
 */
export function unitOverlapProblems(claims: readonly PathClaim[]): string[] {
  const problems: string[] = [];
  claims.forEach((a, i) =>
    claims.slice(i + 1).forEach((b) => {
      if (pathsOverlap(a.path, b.path)) {
        problems.push(`${show(a)} ${relation(a, b)} ${show(b)}; each remote path of a construct must be separate from its others (not equal, neither inside the other)`);
      }
    }),
  );
  return problems;
}

/** The prop behind a claim: `databaseYml.path`, `secretFiles["x"]`, or the one it is derived from ("releases directory (from appDir)" -> appDir). */
function propOf(c: PathClaim): string {
  return /\(from ([A-Za-z.]+)\)$/.exec(c.field)?.[1] ?? c.field;
}

/** ` (set another databaseYml.path on one of them)`, when both claims come from one prop. */
function fixOf(a: PathClaim, b: PathClaim): string {
  const [pa, pb] = [propOf(a), propOf(b)];
  if (/\s/.test(pa) || /\s/.test(pb)) return "";
  return pa === pb ? ` (set another ${pa} on one of them)` : ` (set another ${pb} on ${b.by} or ${pa} on ${a.by})`;
}

/** Overlapping claims of DIFFERENT constructs on one host (a construct's own are checked at construction). */
export function hostOverlapProblems(claims: readonly PathClaim[], host: string): string[] {
  const problems: string[] = [];
  claims.forEach((a, i) =>
    claims.slice(i + 1).forEach((b) => {
      if (a.by !== b.by && pathsOverlap(a.path, b.path)) {
        problems.push(
          `${b.by} ${show(b)} ${relation(b, a)} ${a.by} ${show(a)} on host ${host}; remote paths of different constructs must not be equal or contain one another: give each its own${fixOf(a, b)}`,
        );
      }
    }),
  );
  return problems;
}
