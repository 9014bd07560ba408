import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Who is still working in a `webshare deploy` run. On Ctrl+C the engine kills the shell of
 * each local-exec provisioner and exits, while our provisioner process (now orphaned) still
 * stops the remote build and releases the host lock. Each provisioner leaves a file named
 * by its pid in WEBSHARE_RUN_DIR while it runs, so `webshare deploy` can wait for those
 * before it exits: when it returns, the host is free.
 */
export const RUN_DIR_VARIABLE = "WEBSHARE_RUN_DIR";

/** Mark this process as working in the run (when there is one); returns the unmark function. */
export function markWorking(env: NodeJS.ProcessEnv, pid = process.pid): () => void {
  const dir = env[RUN_DIR_VARIABLE];
  if (dir === undefined || dir === "" || !fs.existsSync(dir)) return () => undefined;
  const file = path.join(dir, String(pid));
  fs.writeFileSync(file, "");
  return () => fs.rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Pids still marked and alive (a process killed with -9 leaves its mark; it no longer counts). */
export function stillWorking(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter(alive);
}

/** Wait until no provisioner of the run is working, or the timeout passes; returns who is left. */
export async function waitUntilIdle(dir: string, timeoutMs: number, pollMs = 100): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = stillWorking(dir);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
