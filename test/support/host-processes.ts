import * as fs from "node:fs";

/**
 * Processes of the local host, read from /proc (no procps needed): what a hoster's admin
 * sees with `ps`, used to break things from the host side (drop a user's SSH session).
 */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly pgid: number;
  readonly comm: string;
  readonly cmdline: string;
}

function read(pid: number): ProcessInfo | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (afterName[0] === "Z") return undefined; // a zombie is already gone
    return {
      pid,
      ppid: Number(afterName[1]),
      uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]),
      pgid: Number(afterName[2]),
      comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim(),
    };
  } catch {
    return undefined; // exited while we looked
  }
}

export function processes(filter: (p: ProcessInfo) => boolean): ProcessInfo[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => read(Number(name)))
    .filter((p): p is ProcessInfo => p !== undefined && filter(p));
}

/** Every process started (directly or not) by `pid`: a command's own processes, whatever group they moved to. */
export function descendantsOf(pid: number): ProcessInfo[] {
  const all = processes(() => true);
  const found: ProcessInfo[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = all.filter((p) => frontier.includes(p.ppid));
    found.push(...children);
    frontier = children.map((p) => p.pid);
  }
  return found;
}

/** Poll until some process matches; rejects after `timeoutMs`. */
export async function waitForProcess(filter: (p: ProcessInfo) => boolean, what: string, timeoutMs = 120_000): Promise<ProcessInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = processes(filter);
    if (found.length > 0) return found[0];
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The uid that owns a home directory: the host user's. */
export function uidOf(home: string): number {
  return fs.statSync(home).uid;
}
