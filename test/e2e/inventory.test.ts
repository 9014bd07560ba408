import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, REPO, resetHome, Target } from "../support/local-host";

/**
 * Apps that leave the stack leave the host (self-managed Apache): the engine runs no destroy
 * provisioner for a unit whose block is gone, so the host inventory removes it after the
 * deploy. A removed app stops answering and its config is gone; a renamed app answers only at
 * its new mount; drift reports an orphan before the deploy; destroy leaves nothing serving.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));

/** A stack of one venv and the apps named in WEBSHARE_APPS, each at /<name> in apps/<name>. */
const APP_JS = `
const path = require("path");
const REPO = ${JSON.stringify(REPO)};
const { App, TerraformStack } = require(path.join(REPO, "node_modules/cdktf"));
const { ApacheMode, Venv, WebshareHost, WsgiApp } = require(path.join(REPO, "dist/index.js"));
const e = process.env;
const app = new App();
const stack = new TerraformStack(app, "inv");
const host = new WebshareHost(stack, "host", {
  host: e.WEBSHARE_HOST, port: Number(e.WEBSHARE_PORT), user: e.WEBSHARE_USER, privateKeyPath: e.WEBSHARE_KEY,
  hostKey: e.WEBSHARE_HOST_KEY, home: e.WEBSHARE_HOME, python: e.WEBSHARE_PYTHON, errorLog: e.WEBSHARE_ERROR_LOG,
  apache: ApacheMode.selfManaged({ confDir: e.WEBSHARE_APACHE_CONF_DIR, testCommand: e.WEBSHARE_APACHE_TEST.split(/\\s+/), reloadCommand: e.WEBSHARE_APACHE_RELOAD.split(/\\s+/) }),
});
const venv = new Venv(stack, "venv", { host, requirements: "app/requirements.txt", lock: "app/requirements.lock", wheelhouse: e.WEBSHARE_WHEELHOUSE, noIndex: true });
for (const name of e.WEBSHARE_APPS.split(",").filter((n) => n !== "")) {
  new WsgiApp(stack, name, { host, venv, source: "app", entry: "app:app", mount: "/" + name, appDir: "apps/" + name,
    healthCheck: { url: new URL(name + "/health", e.WEBSHARE_URL).toString() } });
}
app.synth();
`;

const url = (name: string) => new URL(`${name}/`, target.url).toString();
const confs = () => fs.readdirSync(target.confDir!).sort();
const deploy = (apps: string) => project.webshareDeploy({ WEBSHARE_APPS: apps }, ["--auto-approve", "inv"]);

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "inv");
  fs.writeFileSync(path.join(project.dir, "app.js"), APP_JS);
  fs.writeFileSync(path.join(project.dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: "node app.js", sendCrashReports: "false" }));
}, 120_000);

afterAll(() => project?.remove());

test("two apps deploy and answer at their mounts", async () => {
  const result = deploy("a,b");
  expect([result.code, result.code === 0 ? "" : result.output]).toEqual([0, ""]);
  expect(result.output).toContain("[inv/host/inventory] no orphaned units: the host has only the 3 units the stack declares");
  expect(confs()).toEqual(["webshare-inv-a.conf", "webshare-inv-b.conf"]);
  for (const name of ["a", "b"]) expect((await httpGet(url(name))).status).toBe(200);
}, 300_000);

test("drift reports the app a stack no longer declares; the deploy removes it and it stops answering", async () => {
  const drift = spawnSync("node", [path.join(REPO, "dist/lib/cli/main.js"), "drift", "--app", "node app.js"], { cwd: project.dir, encoding: "utf8", env: project.environment({ WEBSHARE_APPS: "a" }) });
  expect(drift.status).toBe(2);
  expect(drift.stdout).toContain(`inv/b (app) on ${target.user}@${target.host}:${target.port}: ORPHANED: recorded on the host for inv/host, but no stack declares it`);
  expect(drift.stdout).toContain(`Apache config ${target.confDir}/webshare-inv-b.conf`);

  const result = deploy("a");
  expect([result.code, result.code === 0 ? "" : result.output]).toEqual([0, ""]);
  expect(result.output).toContain("[inv/host/inventory] remove orphaned units (inv/b (app))");
  expect(confs()).toEqual(["webshare-inv-a.conf"]);
  expect((await httpGet(url("b"))).status).not.toBe(200);
  expect((await httpGet(url("a"))).status).toBe(200);
  expect(fs.existsSync(path.join(target.home, "apps/b"))).toBe(false);
}, 300_000);

test("a renamed app answers only at its new mount; the old config is gone", async () => {
  const result = deploy("c");
  expect([result.code, result.code === 0 ? "" : result.output]).toEqual([0, ""]);
  expect(result.output).toContain("[inv/host/inventory] remove orphaned units (inv/a (app))");
  expect(confs()).toEqual(["webshare-inv-c.conf"]);
  expect((await httpGet(url("c"))).status).toBe(200);
  expect((await httpGet(url("a"))).status).not.toBe(200);
}, 300_000);

test("destroy of the stack leaves nothing that serves, also an app whose block left before the destroy", async () => {
  // c leaves the stack and the stack is destroyed without a deploy in between.
  const result = project.cdktf(["destroy", "--auto-approve", "inv"], { WEBSHARE_APPS: "" });
  expect([result.code, result.code === 0 ? "" : result.output]).toEqual([0, ""]);
  expect(confs()).toEqual([]);
  expect((await httpGet(url("c"))).status).not.toBe(200);
  expect(fs.readdirSync(path.join(target.home, ".webshare/units"))).toEqual([]);
  expect(fs.existsSync(path.join(target.home, "apps/c"))).toBe(false);
}, 300_000);
