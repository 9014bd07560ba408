import { spawn } from "node:child_process";

/**
 * Run a local program (the Terraform/OpenTofu engine, a local Python) from an argv, never
 * through a shell. Output is either passed through (the user sees it live, e.g. a plan and
 * its prompt) or captured for an error message.
 */
export interface LocalRun {
  /** Exit code, or the signal / spawn error that ended it. */
  readonly code: number | string;
  /** Combined output when it was captured. */
  readonly output: string;
}

export interface LocalRunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** true: inherit stdio; false: capture output; "tee": show it live AND keep its last 256 KiB. */
  readonly passThrough: boolean | "tee";
  /** Called with a way to signal the child while it runs, e.g. to forward SIGTERM. */
  readonly onStart?: (stop: (signal: NodeJS.Signals) => void) => void;
  /** Hears each chunk of captured output as it comes (e.g. for a heartbeat's last line). */
  readonly onOutput?: (chunk: Buffer) => void;
}

/** Why a run failed, for a message: `exit 3`, or the signal / spawn error as it is. */
export function exitText(code: number | string): string {
  return typeof code === "number" ? `exit ${code}` : code;
}

const TEE_TAIL_BYTES = 256 * 1024;

export function runLocal(program: string, args: readonly string[], options: LocalRunOptions): Promise<LocalRun> {
  return new Promise((resolve) => {
    const output: Buffer[] = [];
    let kept = 0;
    const tee = options.passThrough === "tee";
    const keep = (chunk: Buffer) => {
      output.push(chunk);
      options.onOutput?.(chunk);
      kept += chunk.length;
      // Tee mode runs for a whole apply: keep only the tail, enough to find the engine's error.
      while (tee && kept > TEE_TAIL_BYTES && output.length > 1) kept -= output.shift()!.length;
    };
    const stdio = options.passThrough === true ? "inherit" : tee ? (["inherit", "pipe", "pipe"] as const) : (["ignore", "pipe", "pipe"] as const);
    const child = spawn(program, args, { cwd: options.cwd, env: options.env, stdio: stdio as "inherit" | ["inherit" | "ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (tee) process.stdout.write(chunk);
      keep(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (tee) process.stderr.write(chunk);
      keep(chunk);
    });
    options.onStart?.((signal) => child.kill(signal));
    child.on("error", (e) => resolve({ code: `${program} could not be started: ${e.message}`, output: "" }));
    child.on("close", (status, signal) => resolve({ code: status ?? `killed by ${signal}`, output: Buffer.concat(output).toString("utf8") }));
  });
}
