import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, REPO, resetHome, sshRun, Target } from "../support/local-host";
import { buildRealWheelhouse } from "../support/real-wheels";
import { startWebshareDeploy } from "../support/running-command";

/**
 * Real apps on the real local host (issue 13): the Django 3.2 project and the Flask 2.2 app
 * of test/fixtures, installed from wheels of Debian's own packages (docs/testing-real-apps.md),
 * each at a sub-path of the self-managed Apache, deployed by `webshare deploy` from a stack of
 * this test's own. Django's migrate and collectstatic are release commands; a release that
 * fails at import is stopped before the switch, with no failed request. Tests run in order.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-real-wheels-"));

/** The stack: one host, a venv and an app for each of Django (/django) and Flask (/flask). */
const STACK = `
const { App, TerraformStack } = require(require.resolve("cdktf", { paths: [${JSON.stringify(REPO)}] }));
const { ApacheMode, Venv, WebshareHost, WsgiApp } = require(${JSON.stringify(path.join(REPO, "dist/index.js"))});
const env = (name) => process.env[name];
const app = new App();
const stack = new TerraformStack(app, env("WEBSHARE_STACK"));
const url = env("WEBSHARE_URL");
const home = env("WEBSHARE_HOME");
const host = new WebshareHost(stack, "host", {
  host: env("WEBSHARE_HOST"), port: Number(env("WEBSHARE_PORT")), user: env("WEBSHARE_USER"),
  privateKeyPath: env("WEBSHARE_KEY"), hostKey: env("WEBSHARE_HOST_KEY"), home, python: env("WEBSHARE_PYTHON"),
  errorLog: env("WEBSHARE_ERROR_LOG"),
  apache: ApacheMode.selfManaged({ confDir: env("WEBSHARE_APACHE_CONF_DIR"), testCommand: env("WEBSHARE_APACHE_TEST").split(" "), reloadCommand: env("WEBSHARE_APACHE_RELOAD").split(" ") }),
});
const wheels = { wheelhouse: env("WEBSHARE_WHEELHOUSE"), noIndex: true };
const djangoVenv = new Venv(stack, "django-venv", { host, path: "private/django/venv", requirements: "django-project/requirements.txt", lock: "django-project/requirements.lock", ...wheels });
const dataDir = home + "/private/django-data";
new WsgiApp(stack, "django", {
  host, venv: djangoVenv, source: "django-project", entry: "notesite.wsgi:application",
  mount: "/django", appDir: "django", staticDirs: { "/django/static": "staticfiles" },
  // collectstatic writes into the release: not app source, so drift leaves it alone.
  exclude: ["__pycache__", "*.pyc", "staticfiles"],
  environment: { DJANGO_DATA_DIR: dataDir },
  releaseCommands: [["mkdir", "-p", dataDir], ["python", "manage.py", "migrate", "--noinput"], ["python", "manage.py", "collectstatic", "--noinput"]],
  healthCheck: { url: url + "django/admin/login/", timeoutSeconds: 30 },
});
const flaskVenv = new Venv(stack, "flask-venv", { host, path: "private/flask/venv", requirements: "flask-app/requirements.txt", lock: "flask-app/requirements.lock", ...wheels });
new WsgiApp(stack, "flask", {
  host, venv: flaskVenv, source: "flask-app", entry: "app:app", mount: "/flask", appDir: "flask",
  staticDirs: { "/flask/static": "static" },
  environment: { FLASK_FIXTURE_GREETING: env("GREETING") || "Hello" },
  healthCheck: { url: url + "flask/", timeoutSeconds: 30 },
});
app.synth();
`;

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  buildRealWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "real");
  fs.writeFileSync(path.join(project.dir, "stack.js"), STACK);
  fs.writeFileSync(path.join(project.dir, "cdktf.json"), JSON.stringify({ language: "javascript", app: "node stack.js", sendCrashReports: "false" }));
  for (const fixture of ["django-project", "flask-app"]) fs.cpSync(path.join(REPO, "test/fixtures", fixture), path.join(project.dir, fixture), { recursive: true });
}, 120_000);

afterAll(() => {
  project?.remove();
  fs.rmSync(wheelhouse, { recursive: true, force: true });
});

test("from an empty home, ONE deploy serves Django (migrated, static collected, data outside the release) and Flask at sub-paths", async () => {
  const started = Date.now();
  const result = project.webshareDeploy();
  const seconds = (Date.now() - started) / 1000;
  expect(result.code === 0 ? "deployed" : result.output).toBe("deployed");
  console.log(`first deploy of Django + Flask from an empty home: ${seconds.toFixed(1)}s`);
  expect(result.output).toMatch(/\[real\/django\] import check \(notesite\.wsgi:application imports\) \d+\.\ds/);
  expect(result.output).toMatch(/\[real\/django\] release command 2\/3 \(python manage\.py migrate --noinput\) \d+\.\ds/);
  expect(result.output).toContain("[real/django]   |   Applying notes.0001_initial... OK");
  expect(result.output).toMatch(/\[real\/django\]   \| \d+ static files copied to '.*\/staticfiles'/);
  // The release commands ran before the switch.
  expect(result.output.indexOf("[real/django] release command 3/3")).toBeLessThan(result.output.indexOf("[real/django] switch release"));

  const login = await httpGet(`${target.url}django/admin/login/`);
  expect(login.status).toBe(200);
  expect(login.body).toContain("Django administration");
  expect(login.body).toContain('href="/django/static/admin/css/base.css"');
  const css = await httpGet(`${target.url}django/static/admin/css/base.css`);
  expect(css.status).toBe(200);
  expect(css.body).toContain("DJANGO Admin styles");
  // The notes page reads the migrated table.
  expect((await httpGet(`${target.url}django/`)).status).toBe(200);
  // The database lives outside any release, where DJANGO_DATA_DIR says.
  expect(sshRun(target, "ls private/django-data; readlink django").trim()).toMatch(/^db\.sqlite3\n.*private\/releases\/django\/[0-9a-f]{16}$/);

  const flask = await httpGet(`${target.url}flask/`);
  expect(flask.status).toBe(200);
  expect(flask.body).toContain("Hello");
  expect(flask.body).toContain('href="/flask/static/style.css"');
  expect((await httpGet(`${target.url}flask/static/style.css`)).status).toBe(200);

  // Each venv's recorded freeze is pip's own output, byte for byte, though pip did not write it (lib/lifecycle/freeze-record.ts).
  for (const venv of ["private/django/venv", "private/flask/venv"]) {
    const recorded = sshRun(target, `cat ${venv}/.webshare-freeze.txt`);
    expect(recorded).toMatch(/^(Django|Flask)==/m);
    expect(recorded).toBe(sshRun(target, `${venv}/bin/python -m pip freeze --local`));
  }
}, 240_000);

test("a release that fails at import is stopped before the switch: 0 failed requests under load, the old release serves", async () => {
  const before = sshRun(target, "readlink flask").trim();
  const appPy = path.join(project.dir, "flask-app/app.py");
  fs.writeFileSync(appPy, fs.readFileSync(appPy, "utf8").replace("import yaml\n", "import yaml\nimport flask_extension_that_is_not_installed\n"));
  const deploy = startWebshareDeploy(project);
  let ended = false;
  void deploy.done.then(() => (ended = true));
  // Bounded load: GETs one after another, 10 ms apart, until the deploy ends (at most 2000 or 120 s).
  const load = { sent: 0, failed: [] as string[] };
  const stopAt = Date.now() + 120_000;
  while (!ended && load.sent < 2000 && Date.now() < stopAt) {
    load.sent++;
    try {
      const answer = await httpGet(`${target.url}flask/`);
      if (answer.status !== 200 || !answer.body.includes("Hello")) load.failed.push(`HTTP ${answer.status}`);
    } catch (e) {
      load.failed.push((e as Error).message);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const result = await deploy.done;
  console.log(`broken release under load: ${load.sent} requests during the deploy, ${load.failed.length} failed`);
  expect(result.code).toBe(1);
  expect(result.output).toMatch(/real\/flask on .*: the new release [0-9a-f]{16} cannot be served: importing app:app with the new venv failed: ModuleNotFoundError: No module named 'flask_extension_that_is_not_installed'; it was not switched in, the previous release keeps serving/);
  expect(result.output).not.toContain("[real/flask] switch release");
  expect(load.sent).toBeGreaterThan(10);
  expect(load.failed).toEqual([]);
  expect(sshRun(target, "readlink flask").trim()).toBe(before);
  expect((await httpGet(`${target.url}flask/`)).body).toContain("Hello");
}, 180_000);
