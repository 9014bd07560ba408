/**
 * `npm run bench:fleet`: what the deploying machine pays per unit as a fleet grows, with real
 * OpenTofu and the provisioner replaced by the test stub (it receives each unit exactly as
 * `webshare provision` does: a Node start, the spec read from the stack and checked against
 * the planned digest; then it saves it instead of connecting). No host is contacted, so this
 * measures the engine, synth and the per-unit process, not SSH.
 *
 *   BENCH_FLEET_UNITS (200,1000)  sizes to measure, in units (each app is 2 units: app + venv)
 *   BENCH_FLEET_HOSTS (10)        hosts the apps are spread over
 *   BENCH_FLEET_PARALLELISM (10)  the engine's -parallelism for the apply
 *
 * Each step runs under /usr/bin/time: wall seconds and local CPU seconds (user + system of
 * the step and every process it waited for: the engine, its provisioners, node). The last
 * step is the whole `webshare deploy --auto-approve` of the unchanged stack. Reported as
 * totals and per unit, so "grows linearly with units" can be read off two sizes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TOFU } from "../test/support/engine-stack";
import { provisionStubDir } from "../test/support/provision-stub";
import { writeFleetApps } from "./fleet-apps";

const REPO = path.resolve(__dirname, "../..");

interface Measured {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}, okCodes: number[] = [0]): Measured {
  const report = path.join(os.tmpdir(), `bench-fleet-time-${process.pid}`);
  const run = spawnSync("/usr/bin/time", ["-o", report, "-f", "%e %U %S", ...argv], {
    cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", ...env },
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (!okCodes.includes(run.status ?? -1)) throw new Error(`${argv.join(" ")} failed (${run.status}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-4000)}`);
  // /usr/bin/time prints "Command exited with non-zero status N" first when the exit is not 0.
  const [seconds, user, system] = fs.readFileSync(report, "utf8").trim().split("\n").pop()!.split(/\s+/).map(Number);
  fs.rmSync(report, { force: true });
  return { seconds: seconds!, cpuSeconds: user! + system! };
}

interface SizeResult {
  readonly units: number;
  readonly resources: number;
  readonly steps: Record<string, Measured>;
}

function measureSize(units: number, hosts: number, parallelism: number): SizeResult {
  const apps = Math.max(1, Math.round(units / 2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-fleet-"));
  try {
    writeFleetApps(dir, apps);
    const env = { TERRAFORM_BINARY_NAME: TOFU, BENCH_SYNTH_HOSTS: String(hosts), BENCH_SYNTH_APPS: String(apps) };
    const steps: Record<string, Measured> = {};
    steps.synth = measure([process.execPath, path.join(REPO, "dist/bench/synth-stack.js")], dir, env);
    const stackDir = path.join(dir, "cdktf.out/stacks/fleet");
    const resources = Object.keys(JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")).resource.terraform_data).length;
    execFileSync(TOFU, ["init", "-input=false"], { cwd: stackDir, stdio: "ignore", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    const stub = { PATH: `${provisionStubDir(dir)}${path.delimiter}${process.env.PATH}`, WEBSHARE_DUMP: fs.mkdtempSync(path.join(dir, "dump-")) };
    steps["plan (create)"] = measure([TOFU, "plan", "-input=false", "-out=plan", `-parallelism=${parallelism}`], stackDir);
    // The engine's own share: the same plan applied in a copy of the stack dir, each
    // provisioner an `exit 0` (no Node start), so the rest of the stub's cost is the Node processes.
    // (Its own state file: the stack's backend names one by absolute path.)
    const engineOnly = path.join(dir, "engine-only");
    fs.mkdirSync(engineOnly);
    const stackJson = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    stackJson.terraform.backend = { local: { path: "terraform.tfstate" } };
    fs.writeFileSync(path.join(engineOnly, "cdk.tf.json"), JSON.stringify(stackJson));
    execFileSync(TOFU, ["init", "-input=false"], { cwd: engineOnly, stdio: "ignore", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    execFileSync(TOFU, ["plan", "-input=false", "-out=plan"], { cwd: engineOnly, stdio: "ignore", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    const trueBin = path.join(dir, "true-bin");
    fs.mkdirSync(trueBin);
    fs.writeFileSync(path.join(trueBin, "node"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    steps["apply (provisioner: exit 0)"] = measure([TOFU, "apply", "-input=false", `-parallelism=${parallelism}`, "plan"], engineOnly, { PATH: `${trueBin}${path.delimiter}${process.env.PATH}` });
    fs.rmSync(engineOnly, { recursive: true, force: true });
    steps["apply (stub provisioner)"] = measure([TOFU, "apply", "-input=false", `-parallelism=${parallelism}`, "plan"], stackDir, stub);
    steps["synth again (no change)"] = measure([process.execPath, path.join(REPO, "dist/bench/synth-stack.js")], dir, env);
    // -detailed-exitcode: 0 = no changes, which is what a no-op must find.
    steps["plan (no change)"] = measure([TOFU, "plan", "-input=false", "-detailed-exitcode", `-parallelism=${parallelism}`], stackDir);
    // The whole command a user runs for a no-op: its start, the early guess (every app's
    // files hashed), the synth, the engine's init and apply -auto-approve.
    fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, "dist/bench/synth-stack.js"))}` }));
    const deployOutput = path.join(dir, "webshare-deploy.log");
    steps["webshare deploy (no change)"] = measure(["/bin/sh", "-c", `"$0" "$@" > ${JSON.stringify(deployOutput)} 2>&1`, process.execPath, path.join(REPO, "dist/lib/cli/main.js"), "deploy", "fleet", "--auto-approve", "--engine", TOFU], dir, env);
    const log = fs.readFileSync(deployOutput, "utf8");
    if (!/0 added, 0 changed, 0 destroyed/.test(log) || /connecting to/.test(log)) throw new Error(`webshare deploy was not a no-op:\n${log.slice(-3000)}`);
    return { units, resources, steps };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const sizes = (process.env.BENCH_FLEET_UNITS ?? "200,1000").split(",").map((s) => Number(s.trim()));
  const hosts = Number(process.env.BENCH_FLEET_HOSTS ?? "10");
  const parallelism = Number(process.env.BENCH_FLEET_PARALLELISM ?? "10");
  for (const [name, value] of [["BENCH_FLEET_HOSTS", hosts], ["BENCH_FLEET_PARALLELISM", parallelism], ...sizes.map((s) => ["BENCH_FLEET_UNITS", s] as const)] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be positive integers, not ${JSON.stringify(process.env[name])}`);
  }
  console.log(`fleet bench: ${sizes.join(", ")} units on ${hosts} hosts, -parallelism=${parallelism}; load before: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  const results: SizeResult[] = [];
  for (const units of sizes) {
    const result = measureSize(units, hosts, parallelism);
    results.push(result);
    console.log(`\n${units} units (${result.resources} terraform_data resources):`);
    for (const [step, m] of Object.entries(result.steps)) {
      console.log(`  ${step.padEnd(26)} ${m.seconds.toFixed(1).padStart(7)} s wall  ${m.cpuSeconds.toFixed(1).padStart(7)} CPU-s  ${(m.cpuSeconds / units).toFixed(3)} CPU-s/unit`);
    }
    const noop = result.steps["synth again (no change)"]!.seconds + result.steps["plan (no change)"]!.seconds;
    console.log(`  no-op (synth + plan)       ${noop.toFixed(1).padStart(7)} s wall; the whole webshare deploy: ${result.steps["webshare deploy (no change)"]!.seconds.toFixed(1)} s`);
  }
  console.log(`\nload after: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  if (results.length >= 2) {
    const [a, b] = [results[0]!, results[results.length - 1]!];
    for (const step of Object.keys(a.steps)) {
      console.log(`${step}: ${(b.units / a.units).toFixed(1)}x the units cost ${(b.steps[step]!.seconds / a.steps[step]!.seconds).toFixed(1)}x the wall time, ${(b.steps[step]!.cpuSeconds / a.steps[step]!.cpuSeconds).toFixed(1)}x the CPU`);
    }
  }
}

main();
