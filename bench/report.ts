/**
 * `npm run bench:report`: the markdown of one run for docs/benchmarks.md, from the JSON that
 * `npm run bench` wrote (bench/results.json, or the file named as the first argument).
 * It prints a run section (medians with an RTT column, ratios to the best peer, SSH logins,
 * network turns, TCP connections, the floor, every repeat); the run's title and notes on the
 * machine are for the person who pastes it.
 */
import * as fs from "node:fs";
import * as path from "node:path";

type Tool = "manual" | "ansible" | "ours" | "webshare";
type PerTool<T> = Partial<Record<Tool, T>>;

interface Row {
  readonly rttMs: number;
  readonly scenario: string;
  readonly title: string;
  readonly seconds: PerTool<number | null>;
  readonly ratio: PerTool<number | null>;
  readonly connections: PerTool<number | null>;
  readonly turns: PerTool<number | null>;
  readonly tcpConnections: PerTool<number | null>;
  readonly bestPeer?: Tool;
  readonly target?: number;
  readonly judged: PerTool<{ ratio?: number; met?: boolean }>;
}

interface Floor {
  readonly rttMs: number;
  readonly ssh2: { connectTurns: number; exchangeTurns: number; turns: number; seconds: number; connectSeconds: number };
  readonly openssh: { turns: number; seconds: number };
  /** Our own login and one exec (runs from 14 on). */
  readonly ours?: { connectTurns: number; exchangeTurns: number; turns: number; seconds: number; connectSeconds: number };
  readonly problem?: string;
}

interface Results {
  readonly generatedAt: string;
  readonly tree: { commit: string; uncommitted: string[] };
  readonly machine: { cpus: number; loadAtStart: number[]; loadAtEnd: number[] };
  /** startJitterMs: absent in runs 1-15 (deploys back to back). */
  readonly settings: { repeats: number; rttsMs?: number[]; padKb: number; startJitterMs?: number };
  readonly unavailable: PerTool<string>;
  readonly table: Row[];
  readonly floors?: Floor[];
  readonly runs: { tool: Tool; repeat: number; scenario: string; rttMs?: number; seconds: number; ok: boolean; load: number; steps?: { step: string; seconds: number }[] }[];
}

const NAMES: Record<Tool, string> = { manual: "manual", ansible: "Ansible", ours: "`cdktf deploy`", webshare: "`webshare deploy`" };
const SHORT: Record<string, string> = { first: "first deploy", noop: "no-op", code: "code-only", requirements: "requirements change", back: "back to previous lock" };

const num = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? "-" : value.toFixed(digits));
const count = (value: number | null | undefined) => (value === null || value === undefined ? "-" : String(value));
const medianOf = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function renderRun(results: Results): string {
  const ran = (t: Tool) => results.table.some((row) => row.seconds[t] !== undefined && row.seconds[t] !== null);
  const tools = (["manual", "ansible", "ours", "webshare"] as const).filter(ran);
  const ours = (["ours", "webshare"] as const).filter((t) => tools.includes(t));
  const lines: string[] = [];
  lines.push(`Medians of ${results.settings.repeats} repeat(s), seconds, wall clock with start-up; ratios are to the best peer of the same RTT (${[...new Set(results.table.map((r) => r.bestPeer).filter((p) => p !== undefined))].join(", ") || "none"}).`);
  lines.push("");
  lines.push(`| RTT | scenario | ${tools.map((t) => NAMES[t]).join(" | ")} | target | ${ours.map((t) => `${NAMES[t]} / best`).join(" | ")} |`);
  lines.push(`|---:|---|${tools.map(() => "---:").join("|")}|---|${ours.map(() => "---:").join("|")}|`);
  for (const row of results.table) {
    const target = row.target === undefined ? "none" : `<= ${row.target}x${row.scenario === "noop" ? ", 0 SSH" : ""}`;
    const judged = ours.map((t) => {
      const j = row.judged[t];
      if (j?.ratio === undefined || j.ratio === null) return "-";
      return `${j.ratio.toFixed(2)}x${j.met === undefined ? "" : j.met ? ": met" : ": missed"}`;
    });
    lines.push(`| ${row.rttMs} ms | ${SHORT[row.scenario] ?? row.title} | ${tools.map((t) => num(row.seconds[t])).join(" | ")} | ${target} | ${judged.join(" | ")} |`);
  }
  const linked = results.table.filter((row) => row.rttMs > 0);
  lines.push("");
  lines.push(`SSH logins (sshd's log)${linked.length > 0 ? ", network turns and TCP connections through the latency proxy" : ""}, medians per deploy (logins / turns / connections):`);
  lines.push("");
  lines.push(`| RTT | scenario | ${tools.map((t) => NAMES[t]).join(" | ")} |`);
  lines.push(`|---:|---|${tools.map(() => "---:").join("|")}|`);
  for (const row of results.table) {
    const cell = (t: Tool) => (row.rttMs > 0 ? `${count(row.connections[t])} / ${count(row.turns[t])} / ${count(row.tcpConnections[t])}` : `${count(row.connections[t])} / - / -`);
    lines.push(`| ${row.rttMs} ms | ${SHORT[row.scenario] ?? row.title} | ${tools.map(cell).join(" | ")} |`);
  }
  for (const floor of results.floors ?? []) {
    lines.push("");
    if (floor.problem !== undefined) {
      lines.push(`Floor at RTT ${floor.rttMs} ms: not measured (${floor.problem}).`);
      continue;
    }
    const req = results.table.find((row) => row.rttMs === floor.rttMs && row.scenario === "requirements");
    const lowest = Math.min(floor.ssh2.turns, floor.ours?.turns ?? Infinity);
    const near = req === undefined ? [] : tools.filter((t) => req.turns[t] !== undefined && req.turns[t] !== null).map((t) => `${NAMES[t]} ${req.turns[t]} (${(req.turns[t]! / lowest).toFixed(1)}x)`);
    const ours = floor.ours === undefined ? "" : `Our own login (the key sent with the auth request): ${floor.ours.connectTurns} turns (${floor.ours.connectSeconds.toFixed(2)} s), one exec ${floor.ours.exchangeTurns} more: **${floor.ours.turns} turns, ${floor.ours.seconds.toFixed(2)} s**. `;
    lines.push(
      `Floor at RTT ${floor.rttMs} ms (median of 3): an ssh2 connect and login costs ${floor.ssh2.connectTurns} turns (${floor.ssh2.connectSeconds.toFixed(2)} s), one exec to its exit ` +
        `${floor.ssh2.exchangeTurns} more: **${floor.ssh2.turns} turns, ${floor.ssh2.seconds.toFixed(2)} s**. ${ours}OpenSSH's \`ssh host true\`: ${floor.openssh.turns} turns, ${floor.openssh.seconds.toFixed(2)} s. ` +
        `The verify GET does not go through the proxy (on a real link: one more RTT at least). ` +
        (near.length > 0 ? `Requirements change, turns against the lower floor (${lowest}): ${near.join(", ")}.` : ""),
    );
  }
  lines.push("");
  lines.push("Per deploy, seconds, repeats in order:");
  lines.push("");
  lines.push(`| RTT | scenario | ${tools.map((t) => NAMES[t]).join(" | ")} |`);
  lines.push(`|---:|---|${tools.map(() => "---").join("|")}|`);
  for (const row of results.table) {
    const cell = (t: Tool) =>
      results.runs
        .filter((r) => r.tool === t && (r.rttMs ?? 0) === row.rttMs && r.scenario === row.scenario)
        .sort((a, b) => a.repeat - b.repeat)
        .map((r) => (r.ok ? r.seconds.toFixed(2) : "FAILED"))
        .join(", ");
    lines.push(`| ${row.rttMs} ms | ${SHORT[row.scenario] ?? row.title} | ${tools.map(cell).join(" | ")} |`);
  }
  const verifyWait = (r: Results["runs"][number]) => (r.steps ?? []).filter((st) => st.step === "verify reload").reduce((sum, st) => sum + st.seconds, 0);
  if (ours.length > 0 && results.runs.some((r) => verifyWait(r) > 0)) {
    lines.push("");
    lines.push(
      "Our deploys wait for the new version to serve (`verify reload`; the peers do not): Apache restarts a touched daemon on its once-a-second beat, " +
        ((results.settings.startJitterMs ?? 0) > 0
          ? `and each deploy started after an untimed random pause of 0-${results.settings.startJitterMs} ms, so it met that beat at a phase of its own (a wait of 0.0-1.0 s, 0.5 s on average). `
          : "and a bench run's timing keeps its phase, so that wait is about the same in every repeat of a run and differs between runs (0.0-1.0 s). ") +
        "Medians, seconds: the whole deploy / outside the verify wait / the verify wait:",
    );
    lines.push("");
    lines.push(`| RTT | scenario | ${ours.map((t) => NAMES[t]).join(" | ")} |`);
    lines.push(`|---:|---|${ours.map(() => "---:").join("|")}|`);
    for (const row of results.table) {
      const cell = (t: Tool) => {
        const runs = results.runs.filter((r) => r.ok && r.tool === t && (r.rttMs ?? 0) === row.rttMs && r.scenario === row.scenario);
        if (runs.length === 0) return "-";
        return [runs.map((r) => r.seconds), runs.map((r) => r.seconds - verifyWait(r)), runs.map(verifyWait)].map((v) => num(medianOf(v))).join(" / ");
      };
      lines.push(`| ${row.rttMs} ms | ${SHORT[row.scenario] ?? row.title} | ${ours.map(cell).join(" | ")} |`);
    }
  }
  const loads = results.runs.map((r) => r.load);
  lines.push("");
  lines.push(
    `Load (1-minute average) when each deploy started: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} on ${results.machine.cpus} CPUs; ` +
      `at the start ${results.machine.loadAtStart.map((l) => l.toFixed(2)).join(", ")}, at the end ${results.machine.loadAtEnd.map((l) => l.toFixed(2)).join(", ")} (1, 5, 15 min). ` +
      `Commit ${results.tree.commit.slice(0, 7)}${results.tree.uncommitted.length > 0 ? ` with ${results.tree.uncommitted.length} uncommitted file(s)` : ""}, ${results.generatedAt}.`,
  );
  for (const [tool, why] of Object.entries(results.unavailable)) lines.push(`${tool}: unavailable: ${why}`);
  return lines.join("\n") + "\n";
}

if (require.main === module) {
  const file = path.resolve(process.argv[2] ?? path.join(__dirname, "..", "..", "bench", "results.json"));
  process.stdout.write(renderRun(JSON.parse(fs.readFileSync(file, "utf8")) as Results));
}
