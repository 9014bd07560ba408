import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject, RunResult } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, REPO, resetHome, sshRun, Target } from "../support/local-host";
import { Postgres, startPostgres } from "../support/postgres";
import { webshare } from "../support/webshare-cli";

/**
 * A team: two working copies of one project (two directories made from the same sources)
 * share one state in PostgreSQL (OpenTofu's pg backend, chosen by main.ts's PgBackend when
 * WEBSHARE_STATE=pg; the connection comes from PG_CONN_STR, never synthesized). The test
 * starts its own PostgreSQL on a free port and removes it afterwards. Tests run in order.
 */
let pg: Postgres;
let target: Target;
let alice: CdktfProject;
let bob: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const STACK = "team";

const body = async () => (await httpGet(target.url)).body;

/** `webshare deploy` started in the background, its output collected. */
function deployInBackground(project: CdktfProject, args: string[]): { child: ChildProcess; output: () => string; done: Promise<RunResult> } {
  const child = spawn("node", [path.join(REPO, "dist/lib/cli/main.js"), "deploy", ...args], { cwd: project.dir, env: project.environment(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const done = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, output })));
  return { child, output: () => output, done };
}

async function until(what: string, check: () => boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  pg = await startPostgres();
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  [alice, bob] = [0, 1].map(() => {
    const copy = new CdktfProject(target, wheelhouse, STACK);
    Object.assign(copy.env, { WEBSHARE_STATE: "pg", PG_CONN_STR: pg.connStr, WEBSHARE_HEALTH_TIMEOUT: "10" });
    return copy;
  });
}, 120_000);

afterAll(() => {
  alice?.remove();
  bob?.remove();
  pg?.stop();
  fs.rmSync(wheelhouse, { recursive: true, force: true });
});

test("one copy deploys; the other sees no changes", async () => {
  const first = alice.webshareDeploy();
  expect({ code: first.code, output: first.code === 0 ? "" : first.output }).toEqual({ code: 0, output: "" });
  expect(await body()).toBe("Hello from the webshare demo app: greeting 1.0.0\n");
  // The state is in PostgreSQL, not in either directory.
  expect(fs.readFileSync(path.join(alice.dir, `cdktf.out/stacks/${STACK}/cdk.tf.json`), "utf8")).toContain('"pg": {');
  expect(fs.existsSync(path.join(alice.dir, `terraform.${STACK}.tfstate`))).toBe(false);

  const second = bob.webshareDeploy({}, [STACK]);
  expect(second.output).toContain(`webshare deploy: ${STACK} has no changes: nothing to apply`);
  expect(second.code).toBe(0);
});

test("concurrent applies are serialized by the state lock: refused at once with a clear message, or waited for with --lock-timeout", async () => {
  for (const copy of [alice, bob]) copy.write("app.py", copy.read("app.py").replace(/Hello/g, "Howdy"));
  // Hold the HOST lock as a live process of this machine, so alice's apply stops inside its
  // provisioner, holding the STATE lock, for as long as this test needs.
  const owner = JSON.stringify({ user: "test", machine: os.hostname(), pid: process.pid, unit: "shared-state.test", startedAt: new Date().toISOString(), token: "test" });
  sshRun(target, `mkdir -p .webshare/lock && printf '%s' '${owner}' > .webshare/lock/owner`);
  const first = deployInBackground(alice, ["--auto-approve", STACK]);
  try {
    await until("alice's provisioner waiting for the host lock", () => first.output().includes("waiting for the host lock held by test@"));

    const refused = bob.webshareDeploy({}, ["--auto-approve", STACK]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/apply did not run: another run holds the state lock of this stack \(\S+@\S+, OperationTypeApply, since [^)]+\); nothing was planned or applied and no host was touched/);
    expect(refused.output).toContain("pass --lock-timeout 10m to wait for the lock");
    expect(refused.output).toMatch(/force-unlock [0-9a-f-]{36}/);

    const waiting = deployInBackground(bob, ["--auto-approve", "--lock-timeout", "3m", STACK]);
    await until("bob waiting for the state lock", () => waiting.output().includes("Acquiring state lock"), 30);
    sshRun(target, "rm -rf .webshare/lock");
    const [a, b] = [await first.done, await waiting.done];
    expect({ code: a.code, output: a.code === 0 ? "" : a.output }).toEqual({ code: 0, output: "" });
    expect({ code: b.code, output: b.code === 0 ? "" : b.output }).toEqual({ code: 0, output: "" });
    // bob ran after alice's apply had ended and found her change already applied.
    expect(b.output).toMatch(/Apply complete! Resources: 0 added, 0 changed, 0 destroyed/);
    expect(a.output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 1 destroyed/);
  } finally {
    sshRun(target, "rm -rf .webshare/lock");
    first.child.kill();
  }
  expect(await body()).toBe("Howdy from the webshare demo app: greeting 1.0.0\n");
}, 180_000);

test("drift, releases and rollback work from the copy that did not deploy", async () => {
  const drift = webshare(bob, ["drift"]);
  expect(drift.output).toContain("webshare drift: no drift in 2 units on 1 host");
  expect(drift.code).toBe(0);

  const releases = webshare(bob, ["releases", `${STACK}/app`]);
  expect(releases.code).toBe(0);
  expect(releases.output).toMatch(/2 releases kept/);

  const rollback = webshare(bob, ["rollback", `${STACK}/app`]);
  expect(rollback.output).toMatch(new RegExp(`${STACK}/app: rolled back from release [0-9a-f]{16} to [0-9a-f]{16}`));
  expect(rollback.code).toBe(0);
  expect(await body()).toBe("Hello from the webshare demo app: greeting 1.0.0\n");
  // Back again, for the next test.
  const back = /To switch back: (webshare rollback \S+ --to [0-9a-f]{16})/.exec(rollback.output)![1].split(" ").slice(1);
  expect(webshare(bob, back).code).toBe(0);
}, 120_000);

test("a copy behind what is deployed is refused by rollback and drift --fix, naming the unit", async () => {
  alice.write("app.py", alice.read("app.py").replace(/Howdy/g, "Hi"));
  const deployed = alice.webshareDeploy();
  expect({ code: deployed.code, output: deployed.code === 0 ? "" : deployed.output }).toEqual({ code: 0, output: "" });
  expect(await body()).toBe("Hi from the webshare demo app: greeting 1.0.0\n");

  // bob has not pulled: his cdktf.out still holds the "Howdy" release.
  const rollback = webshare(bob, ["rollback", `${STACK}/app`]);
  expect(rollback.code).toBe(1);
  expect(rollback.output).toMatch(new RegExp(`webshare rollback: your checkout differs from what is deployed \\(the state of stack ${STACK}\\); refusing.*${STACK}/app: synthesized here as deploy [0-9a-f]{16}, deployed as [0-9a-f]{16}`));
  expect(rollback.output).toContain("pull and synth again");
  sshRun(target, "printf '\\n# hotfix\\n' >> public/app.py");
  const fix = webshare(bob, ["drift", "--fix"]);
  expect(fix.code).toBe(1);
  expect(fix.output).toContain("webshare drift --fix: your checkout differs from what is deployed");
  expect(await body()).toBe("Hi from the webshare demo app: greeting 1.0.0\n");

  // Once bob has the same sources (a pull) and synthesizes, both work again.
  bob.write("app.py", alice.read("app.py"));
  const fixed = webshare(bob, ["drift", "--fix", "--app", `node ${path.join(REPO, "dist/main.js")}`]);
  expect(fixed.output).toContain("After --fix: no drift");
  expect(fixed.code).toBe(0);
}, 180_000);

test("a deploy from a checkout behind the commit the host serves is refused before it changes anything; after a pull it goes ahead", async () => {
  const git = (project: CdktfProject, ...args: string[]) =>
    execFileSync("git", ["-C", project.dir, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
  fs.writeFileSync(path.join(alice.dir, ".gitignore"), "cdktf.out/\n.terraform*\n*.tfstate*\n");
  git(alice, "init", "-q", "-b", "main");
  git(alice, "add", "-A");
  git(alice, "commit", "-q", "-m", "v1");
  const v1 = git(alice, "rev-parse", "HEAD");
  alice.write("app.py", alice.read("app.py").replace(/Hi from/g, "Hey from"));
  git(alice, "commit", "-q", "-am", "v2");
  const v2 = git(alice, "rev-parse", "HEAD");
  const deployed = alice.webshareDeploy();
  expect({ code: deployed.code, output: deployed.code === 0 ? "" : deployed.output }).toEqual({ code: 0, output: "" });
  expect(await body()).toBe("Hey from the webshare demo app: greeting 1.0.0\n");

  // bob's copy is at v1: it knows v2 (fetched) but has not moved to it.
  git(bob, "init", "-q", "-b", "main");
  git(bob, "fetch", "-q", alice.dir, "main");
  git(bob, "reset", "-q", "--hard", v1);
  const behind = bob.webshareDeploy();
  expect(behind.code).toBe(1);
  expect(behind.output).toContain(`${STACK}/app on ${target.user}@${target.host}:${target.port}: refusing to replace the live release: it serves code deployed from commit ${v2.slice(0, 12)} on `);
  expect(behind.output).toContain(`which this checkout (at ${v1.slice(0, 12)}) does not contain`);
  expect(behind.output).toContain("nothing was changed on the host");
  expect(await body()).toBe("Hey from the webshare demo app: greeting 1.0.0\n");

  git(bob, "reset", "-q", "--hard", v2);
  const pulled = bob.webshareDeploy();
  expect({ code: pulled.code, output: pulled.code === 0 ? "" : pulled.output }).toEqual({ code: 0, output: "" });
  expect(await body()).toBe("Hey from the webshare demo app: greeting 1.0.0\n");
}, 240_000);
