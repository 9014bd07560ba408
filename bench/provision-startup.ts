/**
 * `node dist/bench/provision-startup.js`: what one provisioner process costs on the deploying
 * machine before its unit's work, in its two modes: the full CLI (`cdktf deploy`, or no
 * broker) and the thin client of `webshare deploy` (issue 17), which hands the unit to the
 * broker living in this process. The unit is one that fails as soon as it is read
 * (WEBSHARE_UNIT={}), so no host is contacted and the figures are start-up and hand-over only.
 * Each run is timed by /usr/bin/time (wall, user + system CPU); medians of BENCH_RUNS (20).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { startBroker } from "../lib/ssh/broker";
import { BROKER_ENV } from "../lib/ssh/broker-protocol";
import { provisionServer } from "../lib/host/provision-serve";

const REPO = path.resolve(__dirname, "../..");
const CLI = path.join(REPO, "dist/lib/cli/main.js");

interface Timed {
  readonly wall: number;
  readonly cpu: number;
}

/** One timed run, without blocking this process (the broker may live in it). */
function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "%e %U %S", ...argv], { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    child.on("close", () => {
      const [wall, user, system] = err.trim().split("\n").pop()!.split(" ").map(Number);
      if (wall === undefined || user === undefined || system === undefined || [wall, user, system].some(Number.isNaN)) reject(new Error(`no timing in: ${err}`));
      else resolve({ wall, cpu: user + system });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(runs: number, argv: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const all: Timed[] = [];
  for (let i = 0; i < runs; i++) all.push(await timed(argv, env));
  return { wall: median(all.map((t) => t.wall)), cpu: median(all.map((t) => t.cpu)) };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? "20");
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${JSON.stringify(process.env.BENCH_RUNS)}`);
  if (!fs.existsSync("/usr/bin/time")) throw new Error("needs /usr/bin/time (Debian: apt-get install time)");
  const { [BROKER_ENV]: _ignored, ...env } = process.env;
  const unit = { ...env, WEBSHARE_UNIT: "{}", WEBSHARE_INSTANCE: "bench" };
  const bare = await measure(runs, [process.execPath, "-e", "0"], env);
  const full = await measure(runs, [process.execPath, CLI, "provision", "destroy"], unit);
  const broker = await startBroker({ env, provisions: provisionServer() });
  let thin: Timed;
  try {
    thin = await measure(runs, [process.execPath, CLI, "provision", "destroy"], { ...unit, ...broker.env });
  } finally {
    await broker.close();
  }
  const row = (name: string, t: Timed) => `${name.padEnd(30)} ${t.wall.toFixed(2)} s wall  ${t.cpu.toFixed(2)} CPU-s`;
  process.stdout.write(
    [`provisioner start-up, medians of ${runs}:`, row("node -e 0", bare), row("full CLI (no broker)", full), row("thin client (webshare deploy)", thin)].join("\n") + "\n",
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
