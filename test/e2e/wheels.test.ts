import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { makeWheelhouse, REPO, Target } from "../support/local-host";

/**
 * `webshare wheels` through the real CLI and a real `pip wheel`, offline and without a host:
 * the demo stack is synthesized with an empty wheelhouse, and pip finds the packages in a
 * source directory of test wheels (PIP_FIND_LINKS, the way a pip config or a mirror would
 * add one). Tests run in order and build on each other.
 */
const CLI = path.join(REPO, "dist/lib/cli/main.js");
const GREETING = "webshare_greeting-1.0.0-py3-none-any.whl";
const EXTRA = "webshare_extra-1.1.0-py3-none-any.whl";
/** Nothing connects: the stack only needs a well-formed host to synthesize. */
const nowhere: Target = {
  host: "web.invalid",
  port: 22,
  user: "www",
  key: "/nonexistent/key",
  keyWithPassphrase: "",
  passphrase: "",
  hostKey: `SHA256:${"A".repeat(43)}`,
  home: "/home/www",
  python: "/usr/bin/python3",
  mismatchedPython: "",
  url: "http://web.invalid/",
  apache: "managed",
  errorLog: "",
};

let project: CdktfProject;
let source: string;
const wheelhouse = () => path.join(project.dir, "wheels");
const localXY = spawnSync("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).stdout.trim();

/** This machine's pip configuration (pip.conf, PIP_* variables) is left out, so pip sees only the sources a test gives. */
function hermeticPip(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("PIP_")));
  return { ...kept, PIP_CONFIG_FILE: os.devNull };
}

function webshare(args: string[], extraEnv: Record<string, string> = {}): { code: number; stdout: string; output: string } {
  const result = spawnSync("node", [CLI, "wheels", ...args], { cwd: project.dir, encoding: "utf8", timeout: 60_000, env: { ...hermeticPip(project.environment()), ...extraEnv } });
  return { code: result.status ?? -1, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** `cdktf synth` without the cdktf CLI: the app itself, writing where CDKTF_OUTDIR says. */
function synth(outdir: string, extraEnv: Record<string, string> = {}): void {
  const result = spawnSync("node", [path.join(REPO, "dist/main.js")], { cwd: project.dir, encoding: "utf8", env: { ...project.environment(), ...extraEnv, CDKTF_OUTDIR: path.join(project.dir, outdir) } });
  if (result.status !== 0) throw new Error(`synth failed:\n${result.stdout}${result.stderr}`);
}

/** Edit the synthesized Venv spec the way another version of the stack would have written it. */
function editVenvSpec(outdir: string, edit: (spec: Record<string, unknown>) => void): void {
  const file = path.join(project.dir, outdir, "stacks/demo/cdk.tf.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const resource of Object.values(json.resource.terraform_data as Record<string, { input?: Record<string, unknown> }>)) {
    if (resource.input?.kind === "venv") edit(resource.input);
  }
  fs.writeFileSync(file, JSON.stringify(json));
}

const wheels = () => fs.readdirSync(wheelhouse()).sort();

beforeAll(() => {
  project = new CdktfProject(nowhere, "wheels");
  source = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheel-source-"));
  makeWheelhouse(source);
  fs.mkdirSync(wheelhouse());
  project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.1.0\n");
  synth("cdktf.out");
});

afterAll(() => {
  project?.remove();
  if (source) fs.rmSync(source, { recursive: true, force: true });
});

test("fills the empty wheelhouse from the lock with a real pip wheel run, and says the next plan shows the new wheels", () => {
  const result = webshare([], { PIP_FIND_LINKS: source });
  expect(result.output).toMatch(new RegExp(`^local Python: python3 is Python ${localXY.replace(".", "\\.")}\\.\\d+ on \\S+ \\(/.+\\)$`, "m"));
  expect(result.output).toContain("[demo/venv] warning: demo/venv declares no pythonVersion; building with Python");
  expect(result.output).toContain("[demo/venv] python3 -m pip --disable-pip-version-check --no-input wheel --wheel-dir wheels --no-index --find-links wheels -r app/requirements.lock\n");
  expect(result.output).toMatch(/^\[demo\/venv\] pip wheel \(2 new wheels\) \d+\.\ds$/m);
  expect(result.stdout).toContain(
    [
      "demo/venv: wheels: 2 wheels added (2 files in all)",
      `  + ${EXTRA}`,
      `  + ${GREETING}`,
      "  2 wheels not in the synthesized stack: the wheelhouse is part of demo/venv's spec, so the next plan will show the new wheels (deploying them builds a new venv)",
    ].join("\n"),
  );
  expect(result.code).toBe(0);
  expect(wheels()).toEqual([EXTRA, GREETING]);
  expect(fs.readFileSync(path.join(wheelhouse(), GREETING))).toEqual(fs.readFileSync(path.join(source, GREETING)));
});

test("with the source gone (the index is down) the wheelhouse alone is enough; a synth that saw the wheels plans no change", () => {
  synth("cdktf.out");
  const result = webshare(["demo/venv"]);
  expect(result.stdout).toContain("demo/venv: wheels: no new wheels (2 files in all)\n  the wheelhouse is as synthesized: the next plan shows no change from it\n");
  expect(result.code).toBe(0);
  expect(wheels()).toEqual([EXTRA, GREETING]);
});

test("a pinned version nobody has: exit 1 with the command and pip's own reason; the wheelhouse keeps what it had", () => {
  project.write("requirements.lock", "webshare-greeting==9.9.9\n");
  try {
    const result = webshare([], { PIP_FIND_LINKS: source });
    expect(result.output).toContain("ERROR: demo/venv: pip wheel failed (exit 1); the wheels it saved before failing stay in the wheelhouse");
    expect(result.output).toContain("command: python3 -m pip --disable-pip-version-check --no-input wheel --wheel-dir wheels --no-index --find-links wheels -r app/requirements.lock");
    expect(result.output).toMatch(/No matching distribution found for webshare-greeting==9\.9\.9/);
    expect(result.output).toContain("What to do: fix the cause pip names below");
    expect(result.output).toMatch(/^\[demo\/venv\] pip wheel FAILED after \d+\.\ds$/m);
    expect(result.code).toBe(1);
    expect(wheels()).toEqual([EXTRA, GREETING]);
  } finally {
    project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.1.0\n");
  }
});

test("a declared pythonVersion is checked against the local interpreter: a mismatch is refused (exit 1) naming both", () => {
  const wanted = localXY === "3.9" ? "3.10" : "3.9";
  fs.cpSync(path.join(project.dir, "cdktf.out"), path.join(project.dir, "pinned.out"), { recursive: true });
  editVenvSpec("pinned.out", (spec) => (spec.pythonVersion = wanted));
  const refused = webshare(["--dir", "pinned.out"]);
  expect(refused.output).toMatch(new RegExp(`ERROR: refusing to build wheels: demo/venv needs Python ${wanted} \\(its pythonVersion\\), but python3 is Python ${localXY}\\.\\d+ on \\S+; its compiled wheels would not install on the host`));
  expect(refused.output).toContain("What to do: pass --python with an interpreter of that version");
  expect(refused.output).not.toContain("pip wheel");
  expect(refused.code).toBe(1);

  editVenvSpec("pinned.out", (spec) => (spec.pythonVersion = localXY));
  const matching = webshare(["--dir", "pinned.out"]);
  expect(matching.output).toMatch(new RegExp(`\\[demo/venv\\] Python ${localXY}\\.\\d+ on \\S+ matches pythonVersion ${localXY}`));
  expect(matching.code).toBe(0);
});

test("a --python that cannot run is an error before anything is built", () => {
  const result = webshare(["--python", "/nonexistent/python3"]);
  expect(result.output).toContain('webshare: cannot use the local Python "/nonexistent/python3" to build wheels');
  expect(result.output).toContain("What to do: pass --python with a Python 3 interpreter that has pip");
  expect(result.code).toBe(1);
});

test("a Venv without a wheelhouse is skipped; when no selected Venv has one, exit 1", () => {
  synth("nowheels.out", { WEBSHARE_WHEELHOUSE: "" });
  const result = webshare(["--dir", "nowheels.out"]);
  expect(result.output).toContain("webshare: none of the selected Venvs has a wheelhouse (demo/venv), so there is nothing to fill");
  expect(result.output).toContain('What to do: give the Venv a wheelhouse prop');
  expect(result.code).toBe(1);
  const unknown = webshare(["other/venv"]);
  expect(unknown.output).toContain('no webshare unit matches "other/venv"');
  expect(unknown.code).toBe(1);
});
