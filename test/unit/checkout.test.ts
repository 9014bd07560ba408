import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ALLOW_OLDER_CHECKOUT_ENV, checkoutOf, checkoutsOfOneDeploy, olderCheckoutProblem } from "../../lib/checkout";

/**
 * A deploy from a checkout behind what the host serves is refused; a newer or equal one is
 * not. Real git repositories in a temp dir: two commits on main, one on a side branch.
 */
let repo: string;
const commits: Record<string, string> = {};

function git(...args: string[]): string {
  return execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
}

function commit(name: string): string {
  fs.writeFileSync(path.join(repo, "app.py"), `# ${name}\n`);
  git("add", "app.py");
  git("commit", "-q", "-m", name);
  return (commits[name] = git("rev-parse", "HEAD"));
}

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-checkout-"));
  git("init", "-q", "-b", "main");
  commit("first");
  commit("second");
  git("checkout", "-q", "-b", "side", commits.first!);
  commit("side");
  git("checkout", "-q", "main");
  fs.mkdirSync(path.join(repo, "cdktf.out/stacks/s"), { recursive: true });
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test("the checkout is found from a stack dir inside the work tree", () => {
  expect(checkoutOf(path.join(repo, "cdktf.out/stacks/s"))?.commit).toBe(commits.second);
});

test("outside a git work tree nothing is recorded or checked", () => {
  const plain = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-no-git-"));
  try {
    expect(checkoutOf(plain)).toBeUndefined();
    expect(olderCheckoutProblem({ commit: commits.second }, undefined, {})).toBeUndefined();
  } finally {
    fs.rmSync(plain, { recursive: true, force: true });
  }
});

test("a host deployed from an older or the same commit: go ahead", () => {
  const checkout = checkoutOf(repo)!;
  expect(olderCheckoutProblem({ commit: commits.first }, checkout, {})).toBeUndefined();
  expect(olderCheckoutProblem({ commit: commits.second }, checkout, {})).toBeUndefined();
  expect(olderCheckoutProblem({}, checkout, {})).toBeUndefined();
});

test("a host deployed from a newer commit, a diverged branch or a commit this clone never saw: refused, unless allowed", () => {
  git("checkout", "-q", commits.first!);
  try {
    const behind = checkoutOf(repo)!;
    expect(olderCheckoutProblem({ commit: commits.second, deployedAt: "2026-11-29T20:00:00.000Z" }, behind, {})).toBe(
      `it serves code deployed from commit ${commits.second!.slice(0, 12)} on 2026-11-29T20:00:00.000Z, which this checkout (at ${commits.first!.slice(0, 12)}) does not contain: the checkout is behind or has diverged, and deploying it would replace newer code`,
    );
    expect(olderCheckoutProblem({ commit: commits.side }, checkoutOf(repo)!, {})).toContain("does not contain");
    expect(olderCheckoutProblem({ commit: "f".repeat(40) }, behind, {})).toContain("does not contain");
    expect(olderCheckoutProblem({ commit: commits.second }, behind, { [ALLOW_OLDER_CHECKOUT_ENV]: "1" })).toBeUndefined();
  } finally {
    git("checkout", "-q", "main");
  }
});

test("one deploy's units read the checkout once: the same answers as checkoutOf, from the checkout as the deploy found it", () => {
  const checkouts = checkoutsOfOneDeploy();
  const stackDir = path.join(repo, "cdktf.out/stacks/s");
  const first = checkouts(stackDir)!;
  expect(first.commit).toBe(commits.second);
  expect([first.contains(commits.first!), first.contains(commits.side!), first.contains(commits.second!)]).toEqual([true, false, true]);
  expect(checkouts(stackDir)).toBe(first);
  // A commit made while the deploy runs does not change what its units record.
  git("checkout", "-q", "-b", "during");
  const later = commit("during");
  try {
    expect(checkouts(stackDir)!.commit).toBe(commits.second);
    expect(checkoutOf(stackDir)!.commit).toBe(later);
  } finally {
    git("checkout", "-q", "main");
  }
  expect(checkoutsOfOneDeploy()(os.tmpdir())).toBeUndefined();
});
