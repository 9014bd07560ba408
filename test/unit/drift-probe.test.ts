import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { probeArgv, ProbeRequest, ProbeResult } from "../../lib/drift/probe";

/**
 * The drift probe is a Python script the host runs; here it runs on this machine's python3
 * against real venvs (python3 -m venv --without-pip) whose site-packages hold dist-info
 * directories laid out the way pip writes them.
 */
let dir: string;
const run = (request: ProbeRequest): ProbeResult => {
  const [python, ...args] = probeArgv("python3");
  return JSON.parse(execFileSync(python!, args, { input: JSON.stringify(request), encoding: "utf8" }));
};

function makeVenv(name: string): string {
  const venv = path.join(dir, name);
  execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
  return venv;
}

function sitePackages(venv: string): string {
  const lib = path.join(venv, "lib");
  return path.join(lib, fs.readdirSync(lib).find((d) => d.startsWith("python"))!, "site-packages");
}

function distInfo(venv: string, name: string, version: string, directUrl?: object): void {
  const info = path.join(sitePackages(venv), `${name.replace(/-/g, "_")}-${version}.dist-info`);
  fs.mkdirSync(info, { recursive: true });
  fs.writeFileSync(path.join(info, "METADATA"), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\nName: not-a-header\n`);
  if (directUrl) fs.writeFileSync(path.join(info, "direct_url.json"), JSON.stringify(directUrl));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-probe-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a venv's own interpreter lists its distributions the way pip freeze --local does", () => {
  const venv = makeVenv("v1");
  distInfo(venv, "Foo_Bar", "1.0");
  distInfo(venv, "pip", "23.0.1");
  distInfo(venv, "tool", "2.0", { url: "https://git.example/tool.git", vcs_info: { vcs: "git", commit_id: "abc123" } });
  distInfo(venv, "local-pkg", "0.1", { url: "file:///src/local-pkg", dir_info: { editable: true } });
  fs.writeFileSync(path.join(sitePackages(venv), "legacy-0.3.egg-info"), "Metadata-Version: 1.0\nName: legacy\nVersion: 0.3\n");
  const link = path.join(dir, "venv-link");
  fs.symlinkSync(venv, link);
  fs.writeFileSync(path.join(dir, "freeze.txt"), "foo-bar==1.0\n");

  const result = run({ venvs: [{ id: "a", venv: link, freeze: path.join(dir, "freeze.txt") }], apps: [] });
  const observed = result.venvs.a!;
  expect(observed).toMatchObject({ link: venv, exists: true, recorded: "foo-bar==1.0\n" });
  expect(observed.live).toEqual({
    ok: true,
    python: expect.stringMatching(/^3\.\d+\.\d+$/),
    packages: [
      { name: "Foo_Bar", version: "1.0" },
      { name: "legacy", version: "0.3" },
      { name: "local-pkg", version: "0.1", url: "file:///src/local-pkg", editable: true },
      { name: "tool", version: "2.0", url: "git+https://git.example/tool.git@abc123" },
    ],
  });
});

test("a missing venv, a venv whose Python is gone and a missing freeze.txt are reported, not fatal", () => {
  const broken = makeVenv("v2");
  fs.rmSync(path.join(broken, "bin", "python"));
  fs.symlinkSync("/nonexistent/python3", path.join(broken, "bin", "python"));
  const result = run({
    venvs: [
      { id: "gone", venv: path.join(dir, "nope"), freeze: path.join(dir, "nope.txt") },
      { id: "broken", venv: broken, freeze: path.join(dir, "nope.txt") },
    ],
    apps: [],
  });
  expect(result.venvs.gone).toEqual({ link: null, exists: false, recorded: null });
  expect(result.venvs.broken!.live).toEqual({ ok: false, error: expect.stringContaining("No such file") });
});

test("an app's live release is hashed file by file, through its symlink, with the config read", () => {
  const release = path.join(dir, "releases", "0123456789abcdef");
  fs.mkdirSync(path.join(release, "static"), { recursive: true });
  fs.writeFileSync(path.join(release, "app.py"), "print('hi')\n");
  fs.writeFileSync(path.join(release, "static", "a b.txt"), "x");
  const appDir = path.join(dir, "public");
  fs.symlinkSync("releases/0123456789abcdef", appDir);
  fs.writeFileSync(path.join(dir, "site.conf"), "WSGIDaemonProcess x\n");
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");

  const result = run({ venvs: [], apps: [{ id: "0", appDir, config: path.join(dir, "site.conf") }, { id: "1", appDir: path.join(dir, "none"), config: path.join(dir, "none.conf") }] });
  expect(result.apps["0"]).toEqual({ link: "releases/0123456789abcdef", exists: true, files: { "app.py": sha("print('hi')\n"), "static/a b.txt": sha("x") }, config: "WSGIDaemonProcess x\n" });
  expect(result.apps["1"]).toEqual({ link: null, exists: false, files: {}, config: null });
});
