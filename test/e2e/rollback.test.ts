import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";
import { webshare } from "../support/webshare-cli";

/**
 * Verified reload, `webshare releases` and `webshare rollback` against the real host. Tests
 * run in order: two deploys give each unit something to roll back to. Deploys go through
 * `webshare deploy` (same state and provisioners, seconds faster); deploy.test.ts,
 * failures.test.ts and faults.test.ts cover `cdktf deploy`.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const home = (p: string) => path.join(target.home, p);
const ids: Record<string, string> = {};

function idFrom(output: string, pattern: RegExp): string {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`no ${pattern} in:\n${output}`);
  return match[1];
}

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "rb");
  project.env.WEBSHARE_HEALTH_TIMEOUT = "8";
  const first = project.webshareDeploy();
  if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
  ids.venv1 = fs.readlinkSync(home("private/venv")).split("/").pop()!;
  ids.release1 = fs.readlinkSync(home("public")).split("/").pop()!;
}, 180_000);

afterAll(() => project?.remove());

test("after a deploy every daemon process answers with the new release (verified reload)", async () => {
  project.write("app.py", project.read("app.py").replace(/Hello/g, "Howdy"));
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
  const result = project.webshareDeploy();
  expect({ code: result.code, output: result.code === 0 ? "" : result.output }).toEqual({ code: 0, output: "" });
  ids.venv2 = idFrom(result.output, /\[rb\/venv\] verify reload \(venv ([0-9a-f]{16}) serves: pid \d+/);
  ids.release2 = idFrom(result.output, /\[rb\/app\] verify reload \(release ([0-9a-f]{16}) serves: pid \d+/);
  expect(ids.release2).not.toBe(ids.release1);
  // The hoster's daemon has 2 processes; whichever answers must report the new code.
  const url = new URL(".webshare/health", target.url).toString();
  for (let i = 0; i < 20; i++) {
    const report = JSON.parse((await httpGet(url)).body);
    expect([report.release, report.venv]).toEqual([ids.release2, ids.venv2]);
  }
  expect((await httpGet(target.url)).body).toBe("Howdy from the webshare demo app: greeting 2.0.0\n");
});

test("releases takes the host's construct path; freeze prints (or writes) the host's freeze.txt, the record", () => {
  const byHost = webshare(project, ["releases", "rb/host"]);
  expect(byHost.code).toBe(0);
  expect(byHost.output).toContain(`rb/venv on ${target.user}@${target.host}:${target.port}: 2 venvs kept`);
  expect(byHost.output).toContain(`rb/app on ${target.user}@${target.host}:${target.port}: 2 releases kept`);

  const recorded = fs.readFileSync(home("private/freeze.txt"), "utf8");
  expect(recorded).toBe("webshare-greeting==2.0.0\n");
  expect(webshare(project, ["freeze", "rb/venv"])).toEqual({ code: 0, output: recorded });
  const out = path.join(project.dir, "freezes");
  const written = webshare(project, ["freeze", "--host", "rb/host", "--out", out]);
  expect(written).toEqual({ code: 0, output: `rb/venv: wrote freezes/rb/venv.freeze.txt (private/freeze.txt on ${target.user}@${target.host}:${target.port})\n` });
  expect(fs.readFileSync(path.join(out, "rb/venv.freeze.txt"), "utf8")).toBe(recorded);
});

test("webshare releases lists what each unit keeps: which one serves, what a rollback switches to", () => {
  const result = webshare(project, ["releases", "rb"]);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`rb/venv on ${target.user}@${target.host}:${target.port}: 2 venvs kept for private/venv (keep 2 previous)`);
  expect(result.output).toMatch(new RegExp(`\\* ${ids.venv2} +\\d+s +1 package +serving`));
  expect(result.output).toMatch(new RegExp(`< ${ids.venv1} +\\d+s +1 package +switching to it: webshare-greeting 2\\.0\\.0 -> 1\\.0\\.0`));
  expect(result.output).toMatch(new RegExp(`< ${ids.release1} +\\d+s +4 files +switching to it: 1 changed \\(app\\.py\\)`));
  const json = JSON.parse(webshare(project, ["releases", "rb/venv", "--json"]).output);
  expect(json[0].entries.map((e: { id: string; current: boolean; packages: object }) => [e.id, e.current, e.packages])).toEqual([
    [ids.venv2, true, { "webshare-greeting": "2.0.0" }],
    [ids.venv1, false, { "webshare-greeting": "1.0.0" }],
  ]);
});

test("rollback of the venv switches back in seconds without rebuilding, and freeze.txt follows", async () => {
  const started = Date.now();
  const result = webshare(project, ["rollback", "rb/venv"]);
  expect(result.code).toBe(0);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(result.output).toContain(`rb/venv: rolled back from venv ${ids.venv2} to ${ids.venv1}`);
  expect(result.output).toContain(`To switch back: webshare rollback rb/venv --to ${ids.venv2}`);
  expect(result.output).toContain(`[rb/venv] verify reload (venv ${ids.venv1} serves`);
  expect(result.output).not.toMatch(/pip install|create venv/);
  expect((await httpGet(target.url)).body).toBe("Howdy from the webshare demo app: greeting 1.0.0\n");
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe("webshare-greeting==1.0.0\n");
  expect(JSON.parse(fs.readFileSync(path.join(target.home, ".webshare/units", fs.readdirSync(home(".webshare/units")).find((f) => f.startsWith("rb-venv"))!), "utf8"))).toMatchObject({
    current: ids.venv1,
    rolledBackFrom: ids.venv2,
  });
});

test("rollback of the app, then once more: refused, because nothing older is kept", async () => {
  expect(webshare(project, ["rollback", "rb/app"]).code).toBe(0);
  expect((await httpGet(target.url)).body).toBe("Hello from the webshare demo app: greeting 1.0.0\n");
  const again = webshare(project, ["rollback", "rb/app"]);
  expect(again.code).toBe(1);
  expect(again.output).toContain(
    `rb/app on ${target.user}@${target.host}:${target.port}: there is no previous release to roll back to: ${ids.release1} serves and nothing deployed before it is kept (kept: ${ids.release1}, ${ids.release2}); nothing was changed`,
  );
  expect(again.output).toContain("webshare rollback rb/app --to ID");
  expect((await httpGet(target.url)).body).toBe("Hello from the webshare demo app: greeting 1.0.0\n");
});

test("a rollback to a release that does not serve is switched back, with the app's error", async () => {
  // Imports fine in the deploy's import check, fails under mod_wsgi: it is switched in, fails, and is kept.
  project.write("app.py", "import greeting\ntry:\n    import mod_wsgi\nexcept ImportError:\n    mod_wsgi = None\nif mod_wsgi is not None:\n    raise RuntimeError('broken release')\ndef app(environ, start_response):\n    return []\n");
  const failed = project.webshareDeploy();
  expect(failed.code).not.toBe(0);
  const broken = idFrom(failed.output, /upload app \(\d+ files? uploaded, \d+ removed, release ([0-9a-f]{16})\)/);
  expect(webshare(project, ["releases", "rb/app"]).output).toMatch(new RegExp(`x ${broken} .*never served \\(its deploy failed\\)`));
  const result = webshare(project, ["rollback", "rb/app", "--to", broken]);
  expect(result.code).toBe(1);
  expect(result.output).toContain(`the health check at ${target.url}.webshare/health failed after the switch: HTTP 500`);
  expect(result.output).toContain(`switched back to the previous release ${ids.release1}, which serves again (verified)`);
  expect(result.output).toContain("RuntimeError: broken release");
  expect((await httpGet(target.url)).body).toBe("Hello from the webshare demo app: greeting 1.0.0\n");
});

test("--to goes forward again, and the next deploy that changes a unit deploys the desired state", async () => {
  expect(webshare(project, ["rollback", "rb/venv", "--to", ids.venv2]).output).toContain(`rb/venv: switched from venv ${ids.venv1} to ${ids.venv2}`);
  expect((await httpGet(target.url)).body).toBe("Hello from the webshare demo app: greeting 2.0.0\n");
  project.write("app.py", fs.readFileSync(path.join(__dirname, "../../../examples/demo-app/app.py"), "utf8").replace(/Hello/g, "Hi"));
  const result = project.webshareDeploy();
  expect(result.code).toBe(0);
  expect((await httpGet(target.url)).body).toBe("Hi from the webshare demo app: greeting 2.0.0\n");
});

test("rollback names the unit it cannot find", () => {
  const result = webshare(project, ["rollback", "rb/nope"]);
  expect(result.code).toBe(1);
  expect(result.output).toContain('no webshare unit matches "rb/nope"');
});
