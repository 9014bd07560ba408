import { spawn } from "node:child_process";

/**
 * Running Terraform or OpenTofu: the binary cdktf would use (TERRAFORM_BINARY_NAME, else
 * `terraform`), in a stack's working directory. Output is either passed through (apply: the
 * user sees the plan, the prompt and our provisioners' progress) or kept for an error.
 */
export function engineBinary(env: NodeJS.ProcessEnv, override?: string): string {
  return override || env.TERRAFORM_BINARY_NAME || "terraform";
}

export interface EngineRun {
  /** Exit code, or the signal / spawn error that ended it. */
  readonly code: number | string;
  /** Combined output when it was captured. */
  readonly output: string;
}

export interface EngineOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** true: inherit stdio; false: capture output (shown only on failure). */
  readonly passThrough: boolean;
  /** Called with the child while it runs, e.g. to forward a signal. */
  readonly onStart?: (stop: (signal: NodeJS.Signals) => void) => void;
}

export function runEngine(binary: string, args: readonly string[], options: EngineOptions): Promise<EngineRun> {
  return new Promise((resolve) => {
    const output: Buffer[] = [];
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: options.passThrough ? "inherit" : ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
    options.onStart?.((signal) => child.kill(signal));
    child.on("error", (e) => resolve({ code: `${binary} could not be started: ${e.message}`, output: "" }));
    child.on("close", (status, signal) => resolve({ code: status ?? `killed by ${signal}`, output: Buffer.concat(output).toString("utf8") }));
  });
}
