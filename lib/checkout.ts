import { spawnSync } from "node:child_process";

/**
 * Which commit of the deploying checkout a deploy came from, so that a checkout BEHIND what a
 * host serves (an old CI job re-run, a laptop that did not pull) is stopped before it
 * replaces newer code. The host's unit record keeps the commit of the deploy that made its
 * current version; a later deploy from a checkout whose history does not contain that commit
 * is refused, unless the operator says it is on purpose. Outside a git work tree (or without
 * git) nothing is recorded and nothing is checked.
 */

/** The variable that lets a deploy replace code this checkout does not contain, on purpose. */
export const ALLOW_OLDER_CHECKOUT_ENV = "WEBSHARE_ALLOW_OLDER_CHECKOUT";

export interface Checkout {
  /** HEAD of the work tree holding the deploy's working directory. */
  readonly commit: string;
  /** Whether `commit` is HEAD or one of its ancestors. */
  contains(commit: string): boolean;
}

function git(dir: string, args: string[]): { code: number; out: string } {
  const run = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 });
  return { code: run.status ?? -1, out: (run.stdout ?? "").trim() };
}

/** The checkout `dir` belongs to; undefined outside a git work tree or without git. */
export function checkoutOf(dir: string): Checkout | undefined {
  const head = git(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (head.code !== 0 || !/^[0-9a-f]{40,64}$/.test(head.out)) return undefined;
  return {
    commit: head.out,
    // Exit 0: an ancestor (or HEAD itself); 1: not; 128: a commit this clone has never seen (not contained either).
    contains: (commit) => commit === head.out || git(dir, ["merge-base", "--is-ancestor", commit, "HEAD"]).code === 0,
  };
}

/**
 * checkoutOf for the units of one deploy run in one process (the thin provisioner's server):
 * HEAD is read once per directory and each "contains" answered once per commit, so a fleet
 * of units spawns git a few times instead of twice per unit, and the answers are those of
 * the checkout as the deploy found it.
 */
export function checkoutsOfOneDeploy(): (dir: string) => Checkout | undefined {
  const seen = new Map<string, Checkout | undefined>();
  return (dir) => {
    if (!seen.has(dir)) {
      const checkout = checkoutOf(dir);
      const answers = new Map<string, boolean>();
      seen.set(dir, checkout && {
        commit: checkout.commit,
        contains: (commit) => {
          if (!answers.has(commit)) answers.set(commit, checkout.contains(commit));
          return answers.get(commit)!;
        },
      });
    }
    return seen.get(dir);
  };
}

/** What the host's record says its current version was deployed from. */
export interface RecordedSource {
  readonly commit?: string;
  readonly deployedAt?: string;
}

/**
 * Why this deploy must not replace the host's current version (pure): the record names a
 * commit this checkout does not contain. Undefined when it may go ahead: no record, no
 * commit recorded, not a git checkout, the same or a newer commit, or allowed on purpose.
 */
export function olderCheckoutProblem(recorded: RecordedSource, checkout: Checkout | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (recorded.commit === undefined || checkout === undefined || env[ALLOW_OLDER_CHECKOUT_ENV] === "1") return undefined;
  if (checkout.contains(recorded.commit)) return undefined;
  const when = recorded.deployedAt !== undefined ? ` on ${recorded.deployedAt}` : "";
  return `it serves code deployed from commit ${recorded.commit.slice(0, 12)}${when}, which this checkout (at ${checkout.commit.slice(0, 12)}) does not contain: the checkout is behind or has diverged, and deploying it would replace newer code`;
}

/**
 * The commit to record with a unit (pure). Redeploying what already serves from a checkout
 * that does not contain the recorded commit changes nothing live, so the newer commit stays
 * on record; otherwise the deploying checkout's commit (none outside git).
 */
export function commitToRecord(checkout: Checkout | undefined, recorded: RecordedSource, unchanged: boolean): string | undefined {
  if (unchanged && recorded.commit !== undefined && !(checkout?.contains(recorded.commit) ?? false)) return recorded.commit;
  return checkout?.commit;
}
