import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, sshRun, Target } from "../support/local-host";

/**
 * When a deploy fails, the command exits non-zero, the message names the host, the
 * construct and the failing step with the tool's own error text, and the site keeps serving
 * the previous version. The next good deploy then succeeds with no manual cleanup.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "faults");
  project.env.WEBSHARE_HEALTH_TIMEOUT = "8";
  const first = project.deploy();
  if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
}, 180_000);

afterAll(() => project?.remove());

test("a requirement pip cannot find fails with pip's own error, and the site stays up", async () => {
  project.write("requirements.lock", "webshare-greeting==2.0.0\nwebshare-missing==1.0\n");
  const result = project.deploy();
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`faults/venv on ${target.user}@${target.host}:${target.port}: step "pip install" failed (exit 1)`);
  expect(result.output).toMatch(/No matching distribution found for webshare-missing==1\.0/);
  expect(result.output).toContain("the live site still runs the previous version");
  expect((await httpGet(target.url)).body).toContain("greeting 1.0.0");
  expect(fs.readFileSync(path.join(target.home, "private/freeze.txt"), "utf8")).toBe("webshare-greeting==1.0.0\n");
});

test("an app that fails on import is stopped before the switch, with the exception, and the site stays up", async () => {
  project.write("requirements.lock", "webshare-greeting==1.0.0\n");
  project.write("app.py", "import greeting\nraise RuntimeError('boom at import')\n");
  const result = project.deploy();
  expect(result.code).not.toBe(0);
  expect(result.output).toMatch(new RegExp(`faults/app on ${target.user}@${target.host}:${target.port}: the new release [0-9a-f]{16} cannot be served: importing app:app with the new venv failed: RuntimeError: boom at import; it was not switched in`));
  expect(result.output).not.toContain("[faults/app] switch release");
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
});

test("an app that fails only under mod_wsgi is switched back after a steady error, with the error log in the message", async () => {
  project.write("app.py", "import greeting\ntry:\n    import mod_wsgi\nexcept ImportError:\n    mod_wsgi = None\nif mod_wsgi is not None:\n    raise RuntimeError('boom under mod_wsgi')\ndef app(environ, start_response):\n    return []\n");
  const result = project.deploy();
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`faults/app on ${target.user}@${target.host}:${target.port}: the health check at ${target.url}.webshare/health failed after the switch: HTTP 500: Internal Server Error`);
  expect(result.output).toMatch(/a steady error, not a restart\) \(release [0-9a-f]{16} was not serving; gave up before the 8s timeout\)/);
  expect(result.output).toMatch(/switched back to the previous release [0-9a-f]{16}/);
  expect(result.output).toContain("RuntimeError: boom under mod_wsgi");
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
});

test("an app that hangs at start in its daemon: the old release is proven serving again before the tool says so", async () => {
  // Hangs only under mod_wsgi, so nothing before the switch can catch it: both daemon processes
  // wedge in the import. The switch back must bring the old release back, not just the link.
  const demo = fs.readFileSync(path.join(__dirname, "../../../examples/demo-app/app.py"), "utf8");
  project.write("app.py", `import sys, time\nif 'mod_wsgi' in sys.modules:\n    time.sleep(600)\n${demo}`);
  const result = project.deploy();
  expect(result.code).not.toBe(0);
  expect(result.output).toMatch(/restarted \d+ daemon process(es)?: [0-9a-f]{16} did not fail with a steady error, so a process may hang in loading it/);
  expect(result.output).toMatch(/switched back to the previous release [0-9a-f]{16}, which serves again \(verified\)/);
  // Every daemon process serves the old release: none is left hanging in the new one's import
  // (each would take its share of these requests and never answer).
  const responses = await Promise.all(Array.from({ length: 12 }, () => httpGet(target.url)));
  expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
  for (const response of responses) expect(response.body).toContain("greeting 1.0.0");
});

test("an unreachable host fails fast, naming the host", () => {
  project.write("app.py", project.read("app.py") + "\n# a change that needs a deploy\n");
  const started = Date.now();
  const result = project.deploy({ WEBSHARE_PORT: "1" });
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`cannot connect to ${target.user}@${target.host}:1: connect ECONNREFUSED`);
  expect(Date.now() - started).toBeLessThan(60_000); // the whole cdktf run, tool start-up included
});

test("the next good deploy succeeds without manual cleanup", async () => {
  project.write("app.py", fs.readFileSync(path.join(__dirname, "../../../examples/demo-app/app.py"), "utf8").replace(/Hello/g, "Fixed"));
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
  // A pip seed whose build was cut short has no ready marker: it is rebuilt, not linked from.
  const seed = sshRun(target, "echo .webshare/.pip-seed-*").trim();
  sshRun(target, `rm ${seed}/.webshare-ready`);
  const result = project.deploy();
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/create venv \([0-9a-f]{16}; pip seed built first: \.pip-seed-[0-9a-f]{16}\)/);
  expect(sshRun(target, `test -f ${seed}/.webshare-ready && private/venv/bin/pip --version`)).toMatch(/^pip \d/);
  const response = await httpGet(target.url);
  expect(response.body).toContain("Fixed");
  expect(response.body).toContain("greeting 2.0.0");
});
