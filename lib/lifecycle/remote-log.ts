import { commandLine, quote } from "../shell";
import { lastLineOf } from "../progress";
import type { StepContext } from "./context";

/**
 * A long remote command whose last output line a heartbeat can show. A RemoteSession returns
 * output only when the command ends, so the command writes into a log file on the host and
 * the heartbeat reads the log's tail over the same session: one small command per heartbeat
 * (every 20 s by default), none while the command is quick.
 */

/**
 * Shell text: run `script` in its own `sh` with all output into `logFile`, then print the
 * log and exit with the script's status, so a failure still carries the output. `script`
 * keeps its own `$$` (build-guard's recorded pid is the pip that `exec` starts). Python
 * writes to a file in blocks of 8 KiB unless PYTHONUNBUFFERED is set; with it, pip's lines
 * reach the log as they are printed.
 */
export function loggedScript(script: string, logFile: string): string {
  return `PYTHONUNBUFFERED=1 sh -c ${quote(script)} > ${quote(logFile)} 2>&1; rc=$?; cat ${quote(logFile)}; exit $rc`;
}

/** A `lastLine` for Progress.long: the last line of the remote log, or undefined while there is none. */
export function remoteLastLine(ctx: StepContext, logFile: string): () => Promise<string | undefined> {
  return async () => {
    const tail = await ctx.session.runRaw(ctx.place, "read build log", commandLine(["tail", "-c", "2048", logFile]));
    return tail.code === 0 ? lastLineOf(tail.stdout) : undefined;
  };
}
