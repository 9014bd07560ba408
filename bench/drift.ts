/**
 * `npm run bench:drift`: wall time of `webshare drift` over 50 venvs on one host, and how
 * many SSH connections it opens. Not a test: it prints figures (target: < 2 s, 1 connection).
 *
 * What it does, on a local webshare host of its own (scripts/host/up.sh with the settings
 * below, never the default host):
 *  1. writes 50 lock files (three different package sets) and synthesizes a stack of 50
 *     Venv constructs, each at its own path (bench/drift-stack.ts);
 *  2. seeds each Venv's live state over SSH as fast as it honestly can: pip installs each of
 *     the three locks once (from the uploaded wheelhouse) into a template venv; each of the
 *     50 is a real venv (`python3 -m venv --without-pip`) at the place its spec names, with
 *     its template's site-packages copied in (the files pip wrote), the template's `pip
 *     freeze --local` as its freeze.txt, and the venv symlink pointing at it. (50 `cdktf
 *     deploy` venv builds, serialized by the host lock with ensurepip each, take minutes;
 *     nothing drift reads would differ.)
 *  3. checks that `webshare drift` finds no drift, then times BENCH_RUNS runs of the compiled
 *     CLI (`node dist/lib/cli/main.js drift --json --dir <out>`, start-up included) and counts
 *     "Accepted publickey" lines in the host's sshd log during each run.
 *
 * Settings (environment):
 *   BENCH_DRIFT_VENVS (50), BENCH_RUNS (7), BENCH_KEEP_HOST (unset: stop the host at the end)
 *   WEBSHARE_HOST_DIR, WEBSHARE_SSH_PORT, WEBSHARE_MANAGED_PORT, WEBSHARE_SELF_PORT,
 *   WEBSHARE_MANAGED_USER, WEBSHARE_SELF_USER: the bench host (defaults below)
 */
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { quote } from "../lib/shell";
import { readSynthesizedUnits } from "../lib/stacks/read";
import type { VenvUnitSpec } from "../lib/spec";
import type { DriftReport } from "../lib/drift/model";
import { connectionEnv, makeWheelhouse, REPO, Target } from "../test/support/local-host";

const BENCH_HOST_DEFAULTS: Record<string, string> = {
  WEBSHARE_HOST_DIR: "/var/tmp/webshare-host-drift-bench",
  WEBSHARE_SSH_PORT: "2922",
  WEBSHARE_MANAGED_PORT: "8780",
  WEBSHARE_SELF_PORT: "8781",
  WEBSHARE_MANAGED_USER: "wwwshareg",
  WEBSHARE_SELF_USER: "selfhostg",
};
for (const [name, value] of Object.entries(BENCH_HOST_DEFAULTS)) process.env[name] ||= value;

const HOST_DIR = process.env.WEBSHARE_HOST_DIR!;
const USER = process.env.WEBSHARE_MANAGED_USER!;
const VENVS = Number(process.env.BENCH_DRIFT_VENVS ?? "50");
const RUNS = Number(process.env.BENCH_RUNS ?? "7");
const TARGET_SECONDS = 2;

/** Three package sets, so the venvs differ in content, not only in path. */
const LOCKS = ["webshare-greeting==1.0.0\n", "webshare-extra==1.0.0\nwebshare-greeting==2.0.0\n", "webshare-extra==1.1.0\nwebshare-greeting==1.0.0\n"];

const started = performance.now();
const log = (line: string) => process.stdout.write(`[bench:drift ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);

function sh(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", cwd: options.cwd, env: options.env ?? process.env, input: options.input, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
}

function must(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${`${result.stdout}${result.stderr}`.trim().split("\n").slice(-20).join("\n")}`);
  return result.stdout;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** SSH logins of the bench user so far (the host's sshd logs at VERBOSE). */
function sshLogins(): number {
  const file = path.join(HOST_DIR, "sshd/sshd.log");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  return text.split("\n").filter((line) => line.includes(`Accepted publickey for ${USER} `)).length;
}

function ssh(target: Target & { knownHosts: string }, script: string): string {
  const args = ["-i", target.key, "-p", String(target.port), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${target.knownHosts}`, "-o", "StrictHostKeyChecking=yes", `${target.user}@${target.host}`, "bash -s"];
  return must(sh("ssh", args, { input: script }), "seeding over ssh");
}

/**
 * One bash script that seeds every venv's live state (see the header, step 2). pip installs
 * each distinct lock once, into a template venv; every seeded venv is a real `python3 -m venv`
 * whose site-packages is a copy of its template's (the same files pip wrote), and whose
 * freeze.txt is the template's `pip freeze --local`.
 */
function seedScript(home: string, wheelhouseDir: string, venvs: readonly VenvUnitSpec[], project: string): string {
  const abs = (p: string) => path.posix.join(home, p);
  const seed = abs(".bench-seed");
  const wheelhouse = abs(".webshare/wheelhouse");
  const lines = ["set -euo pipefail", `mkdir -p ${quote(wheelhouse)} ${quote(seed)}`];
  for (const wheel of fs.readdirSync(wheelhouseDir)) {
    lines.push(`printf '%s' ${quote(fs.readFileSync(path.join(wheelhouseDir, wheel)).toString("base64"))} | base64 -d > ${quote(`${wheelhouse}/${wheel}`)}`);
  }
  // A pip to drive the templates; the venvs themselves get no pip (pip freeze omits it anyway).
  lines.push(`python3 -m venv ${quote(`${seed}/pip`)}`);
  const pip = `${quote(`${seed}/pip/bin/python`)} -m pip --disable-pip-version-check -q`;
  const templates = new Map<string, string>();
  for (const spec of venvs) {
    const text = fs.readFileSync(path.join(project, spec.lockFile!), "utf8");
    if (templates.has(text)) continue;
    const tpl = `${seed}/tpl${templates.size}`;
    templates.set(text, tpl);
    lines.push(
      `printf '%s' ${quote(text)} > ${quote(`${tpl}.lock`)}`,
      `python3 -m venv --without-pip ${quote(tpl)}`,
      `${pip} --python ${quote(`${tpl}/bin/python`)} install --no-index --find-links ${quote(wheelhouse)} -r ${quote(`${tpl}.lock`)}`,
      `${pip} --python ${quote(`${tpl}/bin/python`)} freeze --local > ${quote(`${tpl}.freeze`)}`,
    );
  }
  lines.push(
    `seed() {`,
    `  local venv=$1 tpl=$2 link=$3 freeze=$4`,
    `  rm -rf "$venv" && python3 -m venv --without-pip "$venv"`,
    `  cp -a "$tpl"/lib/python3*/site-packages/. "$(echo "$venv"/lib/python3*/site-packages)/"`,
    `  mkdir -p "$(dirname "$link")" "$(dirname "$freeze")"`,
    `  cp "$tpl.freeze" "$freeze"`,
    `  ln -sfn "$venv" "$link.tmp" && mv -T "$link.tmp" "$link"`,
    `}`,
    `export -f seed`,
  );
  const jobs = venvs.map((spec) => {
    const tpl = templates.get(fs.readFileSync(path.join(project, spec.lockFile!), "utf8"))!;
    return [abs(`${spec.venvsDir}/seeded`), tpl, abs(spec.venvPath), abs(spec.freezePath)].map(quote).join(" ");
  });
  lines.push(`xargs -P 4 -L 1 bash -c 'seed "$@"' _ <<'JOBS'`, ...jobs, "JOBS");
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("npm run bench:drift starts its own local host (scripts/host/up.sh) and must run as root");
  log(`starting the bench host in ${HOST_DIR} (ssh ${process.env.WEBSHARE_SSH_PORT}, user ${USER})`);
  must(sh("bash", [path.join(REPO, "scripts/host/up.sh")]), "scripts/host/up.sh");
  const target = JSON.parse(fs.readFileSync(path.join(HOST_DIR, "env.json"), "utf8")).managed as Target & { knownHosts: string };
  must(sh("bash", [path.join(REPO, "scripts/host/reset.sh"), target.user]), "scripts/host/reset.sh");

  const project = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-bench-drift-"));
  try {
    makeWheelhouse(path.join(project, "wheelhouse"));
    fs.mkdirSync(path.join(project, "locks"));
    for (let i = 0; i < VENVS; i++) fs.writeFileSync(path.join(project, `locks/v${String(i).padStart(2, "0")}.lock`), LOCKS[i % LOCKS.length]!);
    const env = {
      ...process.env,
      BENCH_DRIFT_VENVS: String(VENVS),
      ...connectionEnv(target),
      CDKTF_OUTDIR: path.join(project, "cdktf.out"),
    };
    must(sh("node", [path.join(REPO, "dist/bench/drift-stack.js")], { cwd: project, env }), "synth of bench/drift-stack.ts");
    const venvs = readSynthesizedUnits(path.join(project, "cdktf.out")).map((u) => u.spec as VenvUnitSpec);
    log(`synthesized ${venvs.length} Venvs; seeding their live state over ssh`);
    const seedStart = performance.now();
    ssh(target, seedScript(target.home, path.join(project, "wheelhouse"), venvs, project));
    log(`seeded ${venvs.length} venvs in ${((performance.now() - seedStart) / 1000).toFixed(1)}s`);

    const cli = [path.join(REPO, "dist/lib/cli/main.js"), "drift", "--json"];
    const first = sh("node", cli, { cwd: project, env: process.env });
    if (first.status !== 0) throw new Error(`webshare drift should find no drift after seeding (exit ${first.status}):\n${first.stdout.slice(0, 4000)}${first.stderr}`);

    const walls: number[] = [];
    const checks: number[] = [];
    const connections: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const before = sshLogins();
      const t0 = performance.now();
      const result = sh("node", cli, { cwd: project, env: process.env });
      const wall = (performance.now() - t0) / 1000;
      if (result.status !== 0) throw new Error(`run ${run}: webshare drift exited ${result.status}:\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as DriftReport;
      if (report.units.length !== VENVS) throw new Error(`run ${run}: checked ${report.units.length} units, expected ${VENVS}`);
      await new Promise((r) => setTimeout(r, 200)); // sshd writes its log line asynchronously
      const opened = sshLogins() - before;
      walls.push(wall);
      checks.push(report.seconds);
      connections.push(opened);
      log(`run ${run}: ${wall.toFixed(2)}s wall (connect + probe ${report.seconds.toFixed(2)}s), ${opened} SSH connection(s), ${report.units.length} venvs, no drift`);
    }
    const wall = median(walls);
    const met = wall < TARGET_SECONDS && connections.every((c) => c === 1);
    process.stdout.write(
      [
        "",
        `webshare drift over ${VENVS} venvs on ${target.user}@${target.host}:${target.port} (${os.cpus().length} CPUs), ${RUNS} runs:`,
        `  wall time (node start-up included): median ${wall.toFixed(2)}s, min ${Math.min(...walls).toFixed(2)}s, max ${Math.max(...walls).toFixed(2)}s`,
        `  connect + probe (the report's own timing): median ${median(checks).toFixed(2)}s`,
        `  SSH connections per run: ${[...new Set(connections)].join(", ")}`,
        `  target < ${TARGET_SECONDS}s with 1 connection: ${met ? "met" : "NOT met"}`,
        "",
      ].join("\n"),
    );
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_HOST !== "1") sh("bash", [path.join(REPO, "scripts/host/down.sh")]);
  }
}

main().catch((e) => {
  process.stderr.write(`bench:drift: ${(e as Error).message}\n`);
  process.exit(1);
});
