import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject, RunResult } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, REPO, resetHome, sshRun, Target } from "../support/local-host";

/**
 * `webshare drift`, `drift --fix` and `webshare lock` against the real local host: deploy
 * the demo, change the live venv and app by hand over SSH the way an operator would, and
 * read what the CLI says. Tests run in order and build on each other. Deploys go through
 * `webshare deploy` (same state and provisioners, seconds faster than `cdktf deploy`).
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const home = (p: string) => path.join(target.home, p);
const CLI = path.join(REPO, "dist/lib/cli/main.js");
const APP = `node ${path.join(REPO, "dist/main.js")}`;

/** The compiled CLI, run from the project directory like a user would. */
function webshare(args: string[], extraEnv: Record<string, string> = {}): RunResult & { stdout: string } {
  const result = spawnSync("node", [CLI, ...args], { cwd: project.dir, encoding: "utf8", timeout: 180_000, env: { ...process.env, ...project.env, ...extraEnv } });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

/** mod_wsgi restarts the daemon on the next request after a touch: poll briefly. */
async function waitForBody(text: string): Promise<void> {
  let body = "";
  for (let i = 0; i < 50 && !body.includes(text); i++) {
    body = (await httpGet(target.url)).body;
    if (!body.includes(text)) await new Promise((r) => setTimeout(r, 200));
  }
  expect(body).toContain(text);
}

const row = (...cells: string[]) => new RegExp(cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(" +"));

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "drifty");
  project.write("requirements.txt", "webshare-greeting>=1.0\nwebshare-extra\n");
  project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.0.0\n");
  const first = project.webshareDeploy();
  if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
}, 300_000);

afterAll(() => project?.remove());

test("right after a deploy there is no drift (exit 0)", () => {
  const result = webshare(["drift"]);
  expect(result.output).toContain("webshare drift: no drift in 2 units on 1 host");
  expect(result.code).toBe(0);
});

test("a venv changed by hand is drift (exit 2) naming each package with desired, recorded and live", async () => {
  const pip = "private/venv/bin/python -m pip --disable-pip-version-check -q";
  sshRun(target, `${pip} install --no-index --find-links .webshare/wheelhouse webshare-greeting==2.0.0 webshare-broken && ${pip} uninstall -y webshare-extra`);
  // The managed snippet is the tool's copy of what the hoster installed: edited by hand too.
  sshRun(target, "sed -i 's/processes=2/processes=7/' .webshare/apache/webshare-drifty-app.conf");
  // What an operator does next to pick the change up: the site now serves the hand-installed version.
  sshRun(target, "touch public/wwwshare.wsgi");

  await waitForBody("greeting 2.0.0");

  const result = webshare(["drift"]);
  expect(result.code).toBe(2);
  expect(result.stdout).toContain(`drifty/venv (venv) on ${target.user}@${target.host}:${target.port}: DRIFTED`);
  expect(result.stdout).toMatch(row("webshare-broken", "-", "-", "1.0.0", "not in the lock"));
  expect(result.stdout).toMatch(row("webshare-extra", "1.0.0", "1.0.0", "-", "missing from the live venv"));
  expect(result.stdout).toMatch(row("webshare-greeting", "1.0.0", "1.0.0", "2.0.0", "live version differs"));
  expect(result.stdout).toMatch(/Apache snippet for the hoster .*webshare-drifty-app\.conf: CHANGED/);
  expect(result.stdout).toMatch(/- \(installed\) WSGIDaemonProcess .*processes=7/);
  expect(result.stdout).toContain("webshare drift: 2 of 2 units drifted on 1 host");

  const json = JSON.parse(webshare(["drift", "--json"]).stdout);
  const venv = json.units.find((u: { kind: string }) => u.kind === "venv");
  expect(venv.packages.filter((p: { problem?: string }) => p.problem)).toEqual([
    { name: "webshare-broken", live: "1.0.0", problem: "unexpected" },
    { name: "webshare-extra", desired: "1.0.0", recorded: "1.0.0", problem: "missing" },
    { name: "webshare-greeting", desired: "1.0.0", recorded: "1.0.0", live: "2.0.0", problem: "changed" },
  ]);
  const md = webshare(["drift", "--markdown"]);
  expect(md.code).toBe(2);
  expect(md.stdout).toContain("| `webshare-greeting` | `1.0.0` | `1.0.0` | `2.0.0` | live version differs |");
});

test("--fix rebuilds the venv beside the live one and reinstalls the snippet; the app release is left alone", async () => {
  const venvBefore = fs.readlinkSync(home("private/venv"));
  const releaseBefore = fs.readlinkSync(home("public"));
  const result = webshare(["drift", "--fix"]);
  expect(result.output).toContain("After --fix: no drift in 2 units.");
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/\[drifty\/venv\] create venv \([0-9a-f]{16}; pip linked from the seed\)/);
  expect(fs.readlinkSync(home("private/venv"))).not.toBe(venvBefore);
  expect(fs.existsSync(home(`private/${venvBefore}/.webshare-ready`))).toBe(false); // never reused
  expect(fs.readlinkSync(home("public"))).toBe(releaseBefore);
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe("webshare-extra==1.0.0\nwebshare-greeting==1.0.0\n");
  expect(fs.readFileSync(home(".webshare/apache/webshare-drifty-app.conf"), "utf8")).toContain("processes=2 ");
  await waitForBody("greeting 1.0.0");

  const again = webshare(["drift"]);
  expect(again.code).toBe(0);
});

test("a deleted freeze.txt is reported (exit 2, not a crash), and --fix only records it again", () => {
  sshRun(target, "rm private/freeze.txt");
  const venvBefore = fs.readlinkSync(home("private/venv"));
  const result = webshare(["drift"]);
  expect(result.code).toBe(2);
  expect(result.stdout).toContain("recorded: MISSING (private/freeze.txt does not exist)");
  expect(result.stdout).toContain("fix: record the live venv's pip freeze in freeze.txt again");

  const fixed = webshare(["drift", "--fix"]);
  expect(fixed.code).toBe(0);
  expect(fixed.output).not.toMatch(/create venv/);
  expect(fs.readlinkSync(home("private/venv"))).toBe(venvBefore);
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe("webshare-extra==1.0.0\nwebshare-greeting==1.0.0\n");
});

test("app files edited on the host are drift, and --fix uploads a fresh release", async () => {
  sshRun(target, "printf '\\n# hotfix on the server\\n' >> public/app.py && echo 'x = 1' > public/stray.py");
  const result = webshare(["drift"]);
  expect(result.code).toBe(2);
  expect(result.stdout).toMatch(row("app.py", "content changed on the host"));
  expect(result.stdout).toMatch(row("stray.py", "not deployed by webshare"));
  expect(result.stdout).toContain(`drifty/venv (venv) on ${target.user}@${target.host}:${target.port}: in sync`);

  const releaseBefore = fs.readlinkSync(home("public"));
  const fixed = webshare(["drift", "--fix"]);
  expect(fixed.code).toBe(0);
  expect(fs.readlinkSync(home("public"))).not.toBe(releaseBefore);
  expect(fs.existsSync(home("public/stray.py"))).toBe(false);
  expect(fs.readFileSync(home("public/app.py"), "utf8")).toBe(project.read("app.py"));
  expect((await httpGet(target.url)).status).toBe(200);
});

test("an unreachable host is an error (exit 1) naming the host and why", () => {
  const started = Date.now();
  const result = webshare(["drift", "--app", APP], { WEBSHARE_PORT: "1" });
  expect(result.code).toBe(1);
  expect(result.output).toContain(`ERROR: cannot check ${target.user}@${target.host}:1 (2 units: drifty/app, drifty/venv):`);
  expect(result.output).toContain(`cannot connect to ${target.user}@${target.host}:1: connect ECONNREFUSED`);
  expect(Date.now() - started).toBeLessThan(30_000);
});

test("lock pins the newest wheels with the host's Python and leaves the live venv alone", () => {
  const venvBefore = fs.readlinkSync(home("private/venv"));
  const freezeBefore = fs.readFileSync(home("private/freeze.txt"), "utf8");
  const result = webshare(["lock", "--app", APP, "drifty/venv"]);
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/drifty\/venv: updated app\/requirements\.lock \(resolved on .* by Python 3\.\d+\.\d+\)/);
  expect(result.output).toMatch(/resolve on the host \(2 packages pinned by \S+ 3\.\d+\.\d+; pip linked from the seed\)/);
  expect(result.output).toMatch(row("webshare-greeting", "1.0.0 -> 2.0.0", "upgraded (major)"));
  expect(result.output).toMatch(row("webshare-extra", "1.0.0 -> 1.1.0", "upgraded (minor)"));
  const lock = project.read("requirements.lock");
  expect(lock.split("\n").filter((l) => l !== "" && !l.startsWith("#"))).toEqual(["webshare-extra==1.1.0", "webshare-greeting==2.0.0"]);

  expect(fs.readlinkSync(home("private/venv"))).toBe(venvBefore);
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe(freezeBefore);
  expect(fs.readdirSync(home(".webshare/tmp"))).toEqual([]);
  // The host still matches the deployed stacks; the new lock is desired only after a deploy.
  expect(webshare(["drift"]).code).toBe(0);
  expect(webshare(["drift", "--app", APP]).code).toBe(2);
});

describe("self-managed Apache", () => {
  let self: Target;
  let site: CdktfProject;

  beforeAll(() => {
    self = localHost().self;
    resetHome(self.user);
    site = new CdktfProject(self, wheelhouse, "driftself");
    const first = site.webshareDeploy();
    if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
  }, 300_000);

  afterAll(() => site?.remove());

  test("an edited config in the conf dir is drift; --fix installs the rendered one with configtest and reload", async () => {
    const conf = path.join(self.confDir!, "webshare-driftself-app.conf");
    const rendered = fs.readFileSync(conf, "utf8");
    fs.writeFileSync(conf, rendered.replace("threads=15", "threads=3"));
    const run = (args: string[]) => {
      const result = spawnSync("node", [CLI, ...args], { cwd: site.dir, encoding: "utf8", env: { ...process.env, ...site.env } });
      return { code: result.status, stdout: result.stdout, output: result.stdout + result.stderr };
    };

    const drift = run(["drift"]);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain(`Apache config ${conf}: CHANGED`);
    expect(drift.stdout).toMatch(/- \(installed\) WSGIDaemonProcess .*threads=3 /);
    expect(drift.stdout).toMatch(/\+ \(desired\) {3}WSGIDaemonProcess .*threads=15 /);
    expect(drift.stdout).toContain(`driftself/venv (venv) on ${self.user}@${self.host}:${self.port}: in sync`);

    const fixed = run(["drift", "--fix"]);
    expect(fixed.output).toContain(`[driftself/app] install Apache config (${conf})`);
    expect(fixed.output).toContain("[driftself/app] reload Apache");
    expect(fixed.code).toBe(0);
    expect(fs.readFileSync(conf, "utf8")).toBe(rendered);
    expect((await httpGet(self.url)).body).toContain("greeting 1.0.0");
  });
});
