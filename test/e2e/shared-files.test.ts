import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject, RunResult } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, REPO, resetHome, Target } from "../support/local-host";
import { webshare } from "../support/webshare-cli";

/**
 * Shared files and secrets per app, on the real host (self-managed Apache): two apps each
 * with their own database.yml; a secret environment value that reaches the app (it answers
 * with its hash) from a 0600 file, and a secret file the second app reads at import, so it
 * must be deployed after the first (`dependsOn`); sharedPaths data written by one release
 * and seen by the next, and again after a rollback. No secret value is in the synthesized
 * JSON, the plan, the state or any output.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const outputs: RunResult[] = [];
const secrets = {
  SHR_APP_SECRET: `app-secret-${randomBytes(12).toString("hex")}`,
  SHR_TOKEN: `token-${randomBytes(12).toString("hex")}`,
  SHR_DB_WRITER: `dbw-${randomBytes(12).toString("hex")}`,
  SHR_DB_READER: `dbr-${randomBytes(12).toString("hex")}`,
};
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

const APP_JS = `
const path = require("path");
const REPO = ${JSON.stringify(REPO)};
const { App, TerraformStack } = require(path.join(REPO, "node_modules/cdktf"));
const { ApacheMode, Venv, WebshareHost, WsgiApp } = require(path.join(REPO, "dist/index.js"));
const e = process.env;
const app = new App();
const stack = new TerraformStack(app, "shr");
const host = new WebshareHost(stack, "host", {
  host: e.WEBSHARE_HOST, port: Number(e.WEBSHARE_PORT), user: e.WEBSHARE_USER, privateKeyPath: e.WEBSHARE_KEY,
  hostKey: e.WEBSHARE_HOST_KEY, home: e.WEBSHARE_HOME, python: e.WEBSHARE_PYTHON, errorLog: e.WEBSHARE_ERROR_LOG,
  apache: ApacheMode.selfManaged({ confDir: e.WEBSHARE_APACHE_CONF_DIR, testCommand: e.WEBSHARE_APACHE_TEST.split(/\\s+/), reloadCommand: e.WEBSHARE_APACHE_RELOAD.split(/\\s+/) }),
});
const venv = new Venv(stack, "venv", { host, requirements: "app/requirements.txt", lock: "app/requirements.lock", wheelhouse: e.WEBSHARE_WHEELHOUSE, noIndex: true });
const health = (name) => ({ url: new URL(name + "/health", e.WEBSHARE_URL).toString() });
const writer = new WsgiApp(stack, "writer", {
  host, venv, source: "writer", entry: "app:app", mount: "/writer", appDir: "apps/writer", healthCheck: health("writer"),
  environment: { DB_YML: e.WEBSHARE_HOME + "/private/writer/database.yml" },
  databaseYml: { fromEnv: { password: "SHR_DB_WRITER" }, path: "private/writer/database.yml" },
  secretEnvironment: { APP_SECRET: "SHR_APP_SECRET" },
  secretFiles: { "private/tokens/reader.token": { fromEnv: "SHR_TOKEN" } },
  sharedPaths: ["uploads"],
  // Runs in the new release before it serves: the secret is loaded and the shared dir linked.
  releaseCommands: [["python", "-c", "import os; open('uploads/from-command', 'w').write(str(len(os.environ['APP_SECRET'])))"]],
});
new WsgiApp(stack, "reader", {
  host, venv, source: "reader", entry: "app:app", mount: "/reader", appDir: "apps/reader", healthCheck: health("reader"),
  environment: { TOKEN_FILE: e.WEBSHARE_HOME + "/private/tokens/reader.token" },
  databaseYml: { fromEnv: { password: "SHR_DB_READER" }, path: "private/reader/database.yml" },
  dependsOn: [writer],
});
app.synth();
`;

const WRITER_PY = `import hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def app(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    status, body = "200 OK", "ok\\n"
    if path == "/secret":
        with open(os.environ["DB_YML"], "rb") as f:
            db = f.read()
        body = json.dumps({"secret": _sha(os.environ["APP_SECRET"].encode()), "db": _sha(db)})
    elif path.startswith("/write/"):
        with open(os.path.join(HERE, "uploads", path[len("/write/"):]), "w") as f:
            f.write(environ.get("QUERY_STRING", ""))
        body = "written\\n"
    elif path.startswith("/read/"):
        with open(os.path.join(HERE, "uploads", path[len("/read/"):])) as f:
            body = f.read()
    elif path != "/health":
        status, body = "404 Not Found", "not found\\n"
    data = body.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]
`;

// Reads the writer's secret file at import: deployed before the writer, its import check fails.
const READER_PY = `import hashlib, os

with open(os.environ["TOKEN_FILE"], "rb") as f:
    TOKEN = f.read()


def app(environ, start_response):
    data = hashlib.sha256(TOKEN).hexdigest().encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]
`;

const url = (p: string) => new URL(p, target.url).toString();
const home = (p: string) => path.join(target.home, p);
const mode = (p: string) => (fs.statSync(home(p)).mode & 0o777).toString(8);
const deploy = () => {
  const result = project.webshareDeploy({}, ["--auto-approve", "shr"]);
  outputs.push(result);
  return result;
};
const ok = (r: RunResult) => [r.code, r.code === 0 ? "" : r.output];
const releaseOf = (app: string) => path.basename(fs.readlinkSync(home(`apps/${app}`)));

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "shr");
  Object.assign(project.env, secrets);
  fs.writeFileSync(path.join(project.dir, "app.js"), APP_JS);
  fs.writeFileSync(path.join(project.dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: "node app.js", sendCrashReports: "false" }));
  for (const [dir, text] of [["writer", WRITER_PY], ["reader", READER_PY]] as const) {
    fs.mkdirSync(path.join(project.dir, dir));
    fs.writeFileSync(path.join(project.dir, dir, "app.py"), text);
  }
}, 120_000);

afterAll(() => project?.remove());

test("first deploy from an empty home: each app its own database.yml, secrets 0600 and loaded, the reader after the writer", async () => {
  const result = deploy();
  expect(ok(result)).toEqual([0, ""]);
  // dependsOn: the engine starts the reader only once the writer's deploy finished.
  const lines = result.output.split("\n");
  const lastWriter = lines.map((l) => l.includes("[shr/writer] ")).lastIndexOf(true);
  const firstReader = lines.findIndex((l) => l.includes("[shr/reader] "));
  expect(lastWriter).toBeGreaterThan(0);
  expect(firstReader).toBeGreaterThan(lastWriter);
  expect(result.output).toContain("[shr/writer] install secrets (2 files: private/secrets/apps-writer.json, private/tokens/reader.token, mode 0600)");

  expect(fs.readFileSync(home("private/writer/database.yml"), "utf8")).toBe(`password: ${JSON.stringify(secrets.SHR_DB_WRITER)}\n`);
  expect(fs.readFileSync(home("private/reader/database.yml"), "utf8")).toBe(`password: ${JSON.stringify(secrets.SHR_DB_READER)}\n`);
  for (const f of ["private/writer/database.yml", "private/reader/database.yml", "private/secrets/apps-writer.json", "private/tokens/reader.token"]) expect([f, mode(f)]).toEqual([f, "600"]);
  // The dirs made for them are the owner's only; ~/private stays traversable (0711).
  for (const d of ["private/secrets", "private/tokens", "private/writer", "private/reader"]) expect([d, mode(d)]).toEqual([d, "700"]);
  expect(mode("private")).toBe("711");

  // The value reached the app (through the entry point) and the release command.
  const secret = await httpGet(url("writer/secret"));
  expect(secret.status).toBe(200);
  expect(JSON.parse(secret.body)).toEqual({ secret: sha(secrets.SHR_APP_SECRET), db: sha(`password: ${JSON.stringify(secrets.SHR_DB_WRITER)}\n`) });
  expect(await httpGet(url("reader/"))).toEqual({ status: 200, body: sha(secrets.SHR_TOKEN) });
  expect(fs.readFileSync(home("private/shared/apps-writer/uploads/from-command"), "utf8")).toBe(String(secrets.SHR_APP_SECRET.length));
  expect(mode("private/shared/apps-writer")).toBe("700");
}, 300_000);

test("sharedPaths: a file written by release 1 is seen by release 2, and after a rollback to release 1", async () => {
  const release1 = releaseOf("writer");
  expect((await httpGet(url("writer/write/note?from-release-1"))).status).toBe(200);
  fs.appendFileSync(path.join(project.dir, "writer/app.py"), "\n# release 2\n");
  expect(ok(deploy())).toEqual([0, ""]);
  const release2 = releaseOf("writer");
  expect(release2).not.toBe(release1);
  expect(await httpGet(url("writer/read/note"))).toEqual({ status: 200, body: "from-release-1" });
  expect((await httpGet(url("writer/write/later?from-release-2"))).status).toBe(200);

  const rollback = webshare(project, ["rollback", "shr/writer"]);
  outputs.push(rollback);
  expect(ok(rollback)).toEqual([0, ""]);
  expect(releaseOf("writer")).toBe(release1);
  expect(await httpGet(url("writer/read/note"))).toEqual({ status: 200, body: "from-release-1" });
  expect(await httpGet(url("writer/read/later"))).toEqual({ status: 200, body: "from-release-2" });
  // The data lives outside the releases: a link in each.
  expect(fs.readlinkSync(home(`private/releases/apps-writer/${release1}/uploads`))).toBe(home("private/shared/apps-writer/uploads"));
  expect(fs.readlinkSync(home(`private/releases/apps-writer/${release2}/uploads`))).toBe(home("private/shared/apps-writer/uploads"));
}, 300_000);

test("a new secret value shows in the plan as a digest, is deployed, and the app answers with it", async () => {
  project.env.SHR_APP_SECRET = secrets.SHR_APP_SECRET = `app-secret-${randomBytes(12).toString("hex")}`;
  const plan = project.cdktf(["plan", "shr"]);
  outputs.push(plan);
  expect(plan.code).toBe(0);
  expect(plan.output).toMatch(/~ digest\s+= "[0-9a-f]{64}" -> "[0-9a-f]{64}"/);
  expect(ok(deploy())).toEqual([0, ""]);
  expect(JSON.parse((await httpGet(url("writer/secret"))).body).secret).toBe(sha(secrets.SHR_APP_SECRET));
}, 300_000);

test("no secret value in the synthesized JSON, the state, the plan or any output", () => {
  const haystacks: Record<string, string> = {};
  const filesUnder = (dir: string) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  for (const file of filesUnder(path.join(project.dir, "cdktf.out")).filter((f) => f.endsWith(".json"))) haystacks[file] = fs.readFileSync(file, "utf8");
  for (const file of fs.readdirSync(project.dir).filter((f) => f.includes("tfstate"))) haystacks[file] = fs.readFileSync(path.join(project.dir, file), "utf8");
  outputs.forEach((o, i) => (haystacks[`output ${i}`] = o.output));
  expect(Object.keys(haystacks).some((k) => k.includes("tfstate"))).toBe(true);
  expect(Object.keys(haystacks).some((k) => k.endsWith("cdk.tf.json"))).toBe(true);
  const values = Object.values(secrets);
  const hits = Object.entries(haystacks).flatMap(([where, text]) => values.filter((v) => text.includes(v)).map((v) => `${where} contains ${v.slice(0, 8)}...`));
  expect(hits).toEqual([]);
  // Control: the host has them (the search would find them), and the names are in the plan.
  expect(fs.readFileSync(home("private/secrets/apps-writer.json"), "utf8")).toContain(secrets.SHR_APP_SECRET);
  expect(haystacks[Object.keys(haystacks).find((k) => k.endsWith("cdk.tf.json"))!]).toContain("SHR_APP_SECRET");
});
