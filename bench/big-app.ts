/**
 * `node dist/bench/big-app.js`: what an app of many files costs at synth, plan and apply,
 * with real OpenTofu from node_modules and the provisioner replaced by the test stub (it
 * receives the unit as `webshare provision` does, then saves it; no host is contacted).
 *
 *   BENCH_FILES (20000): files in the app's source tree (100 directories, small .py files)
 *
 * Each step runs under /usr/bin/time, which reports wall time and peak memory (max RSS).
 * Also prints how large the spec is, against the 128 KiB that one environment string may
 * hold on Linux (MAX_ARG_STRLEN), which is where the old transport (the spec in
 * WEBSHARE_UNIT) stopped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { Venv, WsgiApp } from "../constructs";
import { unreachableHostStack, TOFU } from "../test/support/engine-stack";
import { provisionStubDir } from "../test/support/provision-stub";

const MAX_ARG_STRLEN = 128 * 1024;

/** The stack program, run as its own process so its time and memory are measured alone. */
function synthStack(dir: string): void {
  const { app, stack, host } = unreachableHostStack(dir);
  const venv = new Venv(stack, "venv", { host, requirements: path.join(dir, "requirements.txt") });
  new WsgiApp(stack, "app", { host, venv, source: path.join(dir, "app"), entry: "app:app" });
  (app as App).synth();
}

interface Measured {
  readonly seconds: number;
  readonly maxRssMiB: number;
}

/** Runs argv under /usr/bin/time; fails loudly on a non-zero exit. */
function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Measured {
  const report = path.join(os.tmpdir(), `bench-time-${process.pid}`);
  const run = spawnSync("/usr/bin/time", ["-o", report, "-f", "%e %M", ...argv], {
    cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", ...env },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`${argv.join(" ")} failed (${run.status}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-4000)}`);
  const [seconds, kib] = fs.readFileSync(report, "utf8").trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(report, { force: true });
  return { seconds: seconds!, maxRssMiB: kib! / 1024 };
}

const fmt = (m: Measured) => `${m.seconds.toFixed(1)} s, max RSS ${m.maxRssMiB.toFixed(0)} MiB`;

function main(): void {
  if (process.argv[2] === "--synth") return synthStack(process.argv[3]!);
  const files = Number(process.env.BENCH_FILES ?? "20000");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-big-app-"));
  try {
    const src = path.join(dir, "app");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "app.py"), "def app(environ, start_response): pass\n");
    for (let i = 0; i < files - 1; i++) {
      const sub = path.join(src, `pkg${String(i % 100).padStart(3, "0")}`);
      if (i < 100) fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, `module_${String(i).padStart(5, "0")}.py`), `N = ${i}\n`);
    }
    fs.writeFileSync(path.join(dir, "requirements.txt"), "webshare-greeting==1.0.0\n");
    console.log(`app of ${files} files in ${src}`);

    const synth = measure([process.execPath, __filename, "--synth", dir], dir);
    const stackDir = path.join(dir, "out/stacks/demo");
    const stack = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const deploy = Object.entries(stack.resource.terraform_data as Record<string, { input: { unit: string } }>).find(([name, r]) => name.includes("_deploy_") && r.input.unit === "demo/app")![1];
    const specBytes = Buffer.byteLength(JSON.stringify(deploy.input));
    const envBytes = Object.values((deploy as any).provisioner[0]["local-exec"].environment as Record<string, string>).reduce((n, v) => n + Buffer.byteLength(v), 0);
    console.log(`synth:                 ${fmt(synth)}; cdk.tf.json ${(fs.statSync(path.join(stackDir, "cdk.tf.json")).size / 1048576).toFixed(1)} MiB`);
    console.log(`app spec as JSON:      ${(specBytes / 1024).toFixed(0)} KiB (${(specBytes / MAX_ARG_STRLEN).toFixed(1)}x the ${MAX_ARG_STRLEN / 1024} KiB one environment string may hold); provisioner environment now ${envBytes} bytes in all`);

    execFileSync(TOFU, ["init", "-input=false"], { cwd: stackDir, stdio: "ignore", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    const plan = measure([TOFU, "plan", "-input=false", "-out=plan"], stackDir);
    console.log(`tofu plan (create):    ${fmt(plan)}`);
    const dump = fs.mkdtempSync(path.join(dir, "dump-"));
    const stub = provisionStubDir(dir);
    const apply = measure([TOFU, "apply", "-input=false", "plan"], stackDir, { PATH: `${stub}${path.delimiter}${process.env.PATH}`, WEBSHARE_DUMP: dump });
    const received = JSON.parse(fs.readFileSync(path.join(dump, fs.readdirSync(dump).find((f) => fs.readFileSync(path.join(dump, f), "utf8").includes('"kind":"app"'))!), "utf8"));
    console.log(`tofu apply (stub):     ${fmt(apply)}; the provisioner received ${Object.keys(received.files).length} files`);
    const again = measure([TOFU, "plan", "-input=false", "-detailed-exitcode"], stackDir);
    console.log(`tofu plan (no change): ${fmt(again)}`);
    console.log(`state: ${(fs.statSync(path.join(dir, "terraform.tfstate")).size / 1048576).toFixed(1)} MiB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
