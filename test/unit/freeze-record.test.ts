import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fastFreezeArgv, FREEZE_UNSURE, freezeScript } from "../../lib/lifecycle/freeze-record";
import { pipFreezeCommand } from "../../lib/lifecycle/pip";
import { buildRealWheelhouse, REAL_WHEELS_PYTHON } from "../support/real-wheels";

/**
 * The freeze a venv build records is written by a walk of site-packages instead of pip,
 * and must be what `pip freeze --local` prints, byte for byte: drift, plans and `webshare
 * releases` compare it. Real venvs of Debian's Python with its pip, real Flask and Django
 * wheels installed by pip, and the cases the walk leaves to pip.
 */
let dir: string;
let wheelhouse: string;

function venv(name: string): string {
  const at = path.join(dir, name);
  execFileSync(REAL_WHEELS_PYTHON, ["-m", "venv", at]);
  return path.join(at, "bin", "python");
}

function pipInstall(python: string, ...args: string[]): void {
  execFileSync(python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-index", "--find-links", wheelhouse, ...args], { stdio: "pipe" });
}

const pipFreeze = (python: string) => execFileSync(pipFreezeCommand(python)[0]!, pipFreezeCommand(python).slice(1), { encoding: "utf8" });

function walk(python: string): { code: number | null; stdout: string } {
  const [exe, ...args] = fastFreezeArgv(python);
  const r = spawnSync(exe!, args, { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout };
}

/** What the deploy runs: the walk, or pip when the walk is unsure. */
const recorded = (python: string) => execFileSync("/bin/sh", ["-c", freezeScript(python)], { encoding: "utf8" });

function sitePackages(python: string): string {
  return execFileSync(python, ["-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: "utf8" }).trim();
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-freeze-"));
  wheelhouse = path.join(dir, "wheels");
  buildRealWheelhouse(wheelhouse);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a venv of real Flask and Django wheels installed by name: the walk prints pip's freeze itself", () => {
  const python = venv("web");
  pipInstall(python, "flask", "django", "pyyaml");
  const pip = pipFreeze(python);
  // Mixed-case names (Django, Jinja2, MarkupSafe, PyYAML), sorted as pip sorts them; pip and setuptools left out.
  expect(pip).toMatch(/^Django==\S+$/m);
  expect(pip).toMatch(/^MarkupSafe==\S+$/m);
  expect(pip).not.toMatch(/^(pip|setuptools)==/m);
  expect(walk(python)).toEqual({ code: 0, stdout: pip });
  expect(recorded(python)).toBe(pip);
}, 120_000);

test("an empty venv records an empty freeze", () => {
  const python = venv("empty");
  expect(pipFreeze(python)).toBe("");
  expect(walk(python)).toEqual({ code: 0, stdout: "" });
}, 60_000);

/** A dist-info with this METADATA header makes pip print `pipLine`; the walk leaves it to pip, whose freeze is recorded. */
function expectLeftToPip(python: string, distInfo: string, header: string, pipLine: string): void {
  const info = path.join(sitePackages(python), distInfo);
  fs.mkdirSync(info);
  fs.writeFileSync(path.join(info, "METADATA"), `Metadata-Version: 2.1\n${header}`);
  const pip = pipFreeze(python);
  expect(pip).toContain(pipLine);
  expect(walk(python)).toEqual({ code: FREEZE_UNSURE, stdout: "" });
  expect(recorded(python)).toBe(pip);
  fs.rmSync(info, { recursive: true });
}

test("what only pip can print is left to pip: a wheel installed from its path, a version not in normal form, a name with a trailing blank, an egg-link", () => {
  const python = venv("odd");
  pipInstall(python, "flask");
  const clean = pipFreeze(python);

  // A direct URL (PEP 610): pip prints `name @ file:///...`.
  const click = fs.readdirSync(wheelhouse).find((w) => w.startsWith("click-"))!;
  pipInstall(python, "--force-reinstall", "--no-deps", path.join(wheelhouse, click));
  const direct = pipFreeze(python);
  expect(direct).toMatch(/^click @ file:\/\//m);
  expect(walk(python)).toEqual({ code: FREEZE_UNSURE, stdout: "" });
  expect(recorded(python)).toBe(direct);

  // pip prints the version normalized (1.0.0-RC1 -> 1.0.0rc1).
  pipInstall(python, "--force-reinstall", "--no-deps", "click");
  expect(walk(python).code).toBe(0);
  expectLeftToPip(python, "odd_pkg-1.0.0-RC1.dist-info", "Name: odd-pkg\nVersion: 1.0.0-RC1\n", "odd-pkg==1.0.0rc1\n");
  // A Name header pip reads otherwise than a trimmed line: it keeps trailing blanks.
  expectLeftToPip(python, "blank_name-1.0.dist-info", "Name: blank-name \nVersion: 1.0\n", "blank-name ==1.0\n");

  // A legacy develop install's egg-link.
  fs.writeFileSync(path.join(sitePackages(python), "devpkg.egg-link"), `${dir}\n.\n`);
  expect(walk(python).code).toBe(FREEZE_UNSURE);
  expect(recorded(python)).toBe(pipFreeze(python));
  fs.rmSync(path.join(sitePackages(python), "devpkg.egg-link"));
  expect(recorded(python)).toBe(clean);
}, 120_000);

test("a walk that cannot run falls back to pip, which names the problem", () => {
  const r = spawnSync("/bin/sh", ["-c", freezeScript(path.join(dir, "gone", "bin", "python"))], { encoding: "utf8" });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/gone\/bin\/python.*(not found|No such file)/);
});
