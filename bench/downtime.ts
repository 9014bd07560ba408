/**
 * `npm run bench:downtime`: failed requests during a requirements change, under constant
 * load, on a local webshare host of its own whose mod_wsgi daemon recycles every 200
 * requests (maximum-requests=200, as under a 1 GiB memory limit):
 *
 *   ours    `cdktf deploy` of a changed lock (3 packages, padded to realistic sizes)
 *   manual  the hoster's manual procedure over one SSH session: rm -r venv; python3 -m venv;
 *           pip install -r requirements.txt --no-index --find-links WHEELHOUSE; pip freeze >
 *           freeze.txt; touch the entry point
 *
 * Load: 4 clients x 25 req/s on fresh loopback connections, from BENCH_LEAD_S before each
 * procedure starts to BENCH_TAIL_S after it ends (failures after a procedure count: a
 * recycled daemon meets a broken venv later). A request fails unless it gets a 200 with the
 * app's own body. The last line is the machine-readable summary:
 *
 *   downtime ours_failed=N ours_total=N manual_failed=N manual_total=N ours_s=S manual_s=S
 *
 * Settings: BENCH_PAD_KB (2048) filler per wheel, BENCH_LEAD_S (2), BENCH_TAIL_S (4),
 * BENCH_KEEP_HOST=1 leaves the host running. The host (never the one tests use):
 * /var/tmp/webshare-host-bench2, ssh 2622, http 8480/8481, users wwwsharee/selfhoste.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../test/support/cdktf-project";
import { httpGet, makeWheelhouse, REPO, Target } from "../test/support/local-host";
import { RunningCommand, startDeploy } from "../test/support/running-command";
import { Load, LoadResult } from "./downtime-load";

const HOST: Record<string, string> = {
  WEBSHARE_HOST_DIR: "/var/tmp/webshare-host-bench2",
  WEBSHARE_SSH_PORT: "2622",
  WEBSHARE_MANAGED_PORT: "8480",
  WEBSHARE_SELF_PORT: "8481",
  WEBSHARE_MANAGED_USER: "wwwsharee",
  WEBSHARE_SELF_USER: "selfhoste",
  WEBSHARE_MAX_REQUESTS: "200",
};
const number = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const PAD_KB = number("BENCH_PAD_KB", 2048);
const LEAD_S = number("BENCH_LEAD_S", 2);
const TAIL_S = number("BENCH_TAIL_S", 4);

// Three packages, all padded: the manual procedure's window grows with what pip installs.
const LOCK_A = "webshare-broken==1.0.0\nwebshare-extra==1.0.0\nwebshare-greeting==1.0.0\n";
const LOCK_B = "webshare-broken==1.0.0\nwebshare-extra==1.1.0\nwebshare-greeting==2.0.0\n";
const REQUIREMENTS = "webshare-greeting>=1.0\nwebshare-extra>=1.0\nwebshare-broken>=1.0\n";

const started = performance.now();
const log = (line: string) => process.stdout.write(`[downtime ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function hostScript(script: string, extraEnv: Record<string, string> = {}): void {
  const result = spawnSync("bash", [path.join(REPO, "scripts/host", script), ...(script === "reset.sh" ? [HOST.WEBSHARE_MANAGED_USER] : [])], {
    encoding: "utf8",
    env: { ...process.env, ...HOST, ...extraEnv },
  });
  if (result.status !== 0) throw new Error(`scripts/host/${script} failed:\n${result.stdout}${result.stderr}`);
}

/** The hoster's manual procedure as one SSH session (the requirements file is uploaded in it). */
function manualProcedure(target: Target & { knownHosts: string }, requirements: string): RunningCommand {
  const script = [
    "set -eu",
    'cd "$HOME"',
    "cat > private/requirements.txt",
    "rm -r private/venv",
    `${target.python} -m venv private/venv`,
    'private/venv/bin/pip install --disable-pip-version-check --no-input --no-index --find-links "$HOME/.webshare/wheelhouse" -r private/requirements.txt >/dev/null',
    "private/venv/bin/pip freeze --local > private/freeze.txt",
    "touch public/wwwshare.wsgi",
  ].join("\n");
  const run = new RunningCommand(
    "ssh",
    ["-i", target.key, "-p", String(target.port), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${target.knownHosts}`, "-o", "StrictHostKeyChecking=yes", `${target.user}@${target.host}`, script],
    { cwd: os.tmpdir(), env: process.env, stdin: requirements },
  );
  return run;
}

interface Measured {
  readonly load: LoadResult;
  readonly seconds: number;
  readonly ok: boolean;
  readonly output: string;
}

/** Run `procedure` under load: BENCH_LEAD_S of load before it, BENCH_TAIL_S after it. */
async function underLoad(url: string, procedure: () => RunningCommand): Promise<Measured> {
  const load = new Load(url, (status, body) => status === 200 && body.startsWith("Hello from the webshare demo app"));
  load.start();
  await sleep(LEAD_S);
  const t0 = performance.now();
  const run = procedure();
  const result = await run.done;
  const seconds = (performance.now() - t0) / 1000;
  await sleep(TAIL_S);
  return { load: await load.stop(), seconds, ok: result.code === 0, output: result.output };
}

function describe(name: string, m: Measured): string {
  const reasons = Object.entries(m.load.reasons).map(([reason, count]) => `${reason}: ${count}`).join(", ");
  const window = m.load.firstFailureAt !== undefined ? `, failures from ${(m.load.firstFailureAt - LEAD_S).toFixed(1)}s to ${(m.load.lastFailureAt! - LEAD_S).toFixed(1)}s after it started` : "";
  return `${name.padEnd(7)} failed ${m.load.failed}/${m.load.total} requests${reasons ? ` (${reasons})` : ""}${window}; took ${m.seconds.toFixed(1)}s`;
}

async function greeting(url: string): Promise<string | undefined> {
  return /greeting (\S+)/.exec((await httpGet(url)).body)?.[1];
}

async function main(): Promise<number> {
  log(`starting the bench host (${HOST.WEBSHARE_HOST_DIR}, maximum-requests=${HOST.WEBSHARE_MAX_REQUESTS})`);
  hostScript("up.sh");
  hostScript("reset.sh");
  const target = JSON.parse(fs.readFileSync(path.join(HOST.WEBSHARE_HOST_DIR, "env.json"), "utf8")).managed as Target & { knownHosts: string; maxRequests: number };
  if (target.maxRequests !== 200) throw new Error(`the bench host runs without maximum-requests=200 (${target.maxRequests})`);
  const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-downtime-wheels-"));
  makeWheelhouse(wheelhouse, PAD_KB);
  const project = new CdktfProject(target, wheelhouse, "downtime");
  try {
    project.write("requirements.txt", REQUIREMENTS);
    project.write("requirements.lock", LOCK_A);
    log(`first deploy (3 packages padded by ${PAD_KB} KiB each)`);
    const first = project.deploy();
    if (first.code !== 0) throw new Error(`first deploy failed:\n${first.output.slice(-3000)}`);

    log("ours: cdktf deploy of a changed lock, under load");
    project.write("requirements.lock", LOCK_B);
    const ours = await underLoad(target.url, () => startDeploy(project));
    if (!ours.ok || (await greeting(target.url)) !== "2.0.0") throw new Error(`our deploy did not end serving greeting 2.0.0:\n${ours.output.slice(-3000)}`);
    log(describe("ours", ours));

    log("manual: rm -r venv; python3 -m venv; pip install; pip freeze; touch, under load");
    const manual = await underLoad(target.url, () => manualProcedure(target, LOCK_A));
    if (!manual.ok || (await greeting(target.url)) !== "1.0.0") throw new Error(`the manual procedure did not end serving greeting 1.0.0:\n${manual.output.slice(-3000)}`);
    log(describe("manual", manual));

    process.stdout.write(
      `downtime ours_failed=${ours.load.failed} ours_total=${ours.load.total} manual_failed=${manual.load.failed} manual_total=${manual.load.total} ours_s=${ours.seconds.toFixed(1)} manual_s=${manual.seconds.toFixed(1)}\n`,
    );
    return 0;
  } finally {
    project.remove();
    fs.rmSync(wheelhouse, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_HOST !== "1") hostScript("down.sh");
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`downtime benchmark failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
