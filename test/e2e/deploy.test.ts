import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, sshRun, Target } from "../support/local-host";

/**
 * The product's main job end to end: `cdktf deploy` with OpenTofu against the real local
 * host (sshd + Apache + mod_wsgi on loopback). Tests in this file run in order and build on
 * each other, like a team's history of deploys.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const home = (p: string) => path.join(target.home, p);

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse);
  // Something the hoster or the team put there that no deploy may touch.
  sshRun(target, "mkdir -p private && umask 077 && printf 'password: do-not-delete\\n' > private/database.yml");
}, 300_000);

afterAll(() => project?.remove());

test("first deploy serves the app with the package from its venv", async () => {
  const result = project.deploy();
  expect(result.output).toMatch(/check Python \(\/usr\/bin\/python3 3\.11\.\d+, mod_wsgi: \/usr\/lib\/x86_64-linux-gnu\/libpython3\.11\.so\.1\.0\)/);
  expect(result.output).toMatch(/pip install \(1 requirement\) \d+\.\ds/);
  // The first venv on this host pays for ensurepip once, in the pip seed.
  expect(result.output).toMatch(/create venv \([0-9a-f]{16}; pip seed built first: \.pip-seed-[0-9a-f]{16}\) \d+\.\ds/);
  expect(result.code).toBe(0);
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toContain("webshare-greeting==1.0.0");
  expect(project.read("freeze.txt")).toContain("webshare-greeting==1.0.0");
  expect(fs.lstatSync(home("private/venv")).isSymbolicLink()).toBe(true);
  expect(fs.lstatSync(home("public")).isSymbolicLink()).toBe(true);
  expect((await httpGet(new URL("static/hello.txt", target.url).toString())).status).toBe(200);
});

test("a lock change shows old and new version in `cdktf plan`, then deploys them", async () => {
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
  const plan = project.cdktf(["plan", project.env.WEBSHARE_STACK]);
  expect(plan.code).toBe(0);
  expect(plan.output).toMatch(/~ "?webshare-greeting"? = "1\.0\.0" -> "2\.0\.0"/);

  // A venv dir left behind (not in the deploy history): prune removes it, never the seed,
  // which lives in the host's state dir for every Venv of the host.
  const venvsDir = path.dirname(path.resolve(home("private"), fs.readlinkSync(home("private/venv"))));
  const seedsDir = home(".webshare");
  const seed = fs.readdirSync(seedsDir).find((name) => name.startsWith(".pip-seed-"))!;
  fs.mkdirSync(path.join(venvsDir, "0123456789abcdef"));

  const result = project.deploy();
  expect(result.code).toBe(0);
  expect((await httpGet(target.url)).body).toContain("greeting 2.0.0");
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toContain("webshare-greeting==2.0.0");
  expect(project.read("freeze.txt")).toContain("webshare-greeting==2.0.0");

  // The new venv got pip from the seed: hard links, and pip scripts that run its own python.
  const venvId = /create venv \(([0-9a-f]{16}); pip linked from the seed\)/.exec(result.output)![1];
  expect(fs.readlinkSync(home("private/venv"))).toMatch(new RegExp(`/${venvId}$`));
  const sitePackages = sshRun(target, "echo private/venv/lib/python3.*/site-packages").trim();
  expect(Number(sshRun(target, `stat -c %h ${sitePackages}/pip/__init__.py`))).toBeGreaterThan(1);
  for (const script of ["pip", "pip3", "pip3.11"]) {
    expect(sshRun(target, `private/venv/bin/${script} --version`)).toMatch(new RegExp(`^pip \\d+\\.\\d+.* from ${venvsDir}/${venvId}/lib/python3\\.11/site-packages/pip \\(python 3\\.11\\)`));
  }
  expect(fs.existsSync(path.join(venvsDir, "0123456789abcdef"))).toBe(false);
  expect(fs.existsSync(path.join(seedsDir, seed, ".webshare-ready"))).toBe(true);
});

test("a code-only change redeploys the app without rebuilding the venv", async () => {
  const venvBefore = fs.readlinkSync(home("private/venv"));
  project.write("app.py", project.read("app.py").replace(/Hello/g, "Howdy"));
  const result = project.deploy();
  expect(result.code).toBe(0);
  expect(result.output).not.toMatch(/pip install/);
  expect(result.output).toMatch(/upload app \(1 file uploaded/);
  expect(fs.readlinkSync(home("private/venv"))).toBe(venvBefore);
  expect((await httpGet(target.url)).body).toContain("Howdy");
});

test("a deploy with nothing changed does nothing on the host", () => {
  const result = project.deploy();
  expect(result.code).toBe(0);
  expect(result.output).not.toMatch(/\] connect /);
});

test("a wrong pinned host key fails the deploy naming the fingerprint the host presented", () => {
  project.write("app.py", project.read("app.py") + "\n# touch\n");
  const wrong = "SHA256:" + "B".repeat(43);
  const result = project.deploy({ WEBSHARE_HOST_KEY: wrong });
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`host key verification failed for ${target.user}@${target.host}:${target.port}`);
  expect(result.output).toContain(`the host presented ${target.hostKey}, but ${wrong} is pinned`);
});

test("an interpreter that is not mod_wsgi's Python is refused before anything is built", async () => {
  project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.0.0\n");
  const result = project.deploy({ WEBSHARE_PYTHON: target.mismatchedPython });
  expect(result.code).not.toBe(0);
  expect(result.output).toMatch(/refusing to build the venv: .*python3\.11d.* another build of Python/);
  expect((await httpGet(target.url)).body).toContain("greeting 2.0.0");
});

test("destroy removes what the constructs created and keeps database.yml", () => {
  const result = project.cdktf(["destroy", "--auto-approve", project.env.WEBSHARE_STACK]);
  expect(result.code).toBe(0);
  for (const gone of ["public", "private/venv", "private/venvs", "private/releases", "private/freeze.txt", "private/requirements.txt"]) {
    expect(fs.existsSync(home(gone))).toBe(false);
  }
  expect(fs.readFileSync(home("private/database.yml"), "utf8")).toBe("password: do-not-delete\n");
  expect(sshRun(target, "ls -A private")).toBe("database.yml\n");
  expect(sshRun(target, "find . -name '.pip-seed-*'")).toBe("");
});
