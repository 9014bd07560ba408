import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type { CdktfProject, RunResult } from "./cdktf-project";
import { REPO } from "./local-host";

/**
 * A command that runs while the test acts (a deploy to interrupt, a second deploy to start,
 * load to measure), in its own process group, so an interrupt reaches every process of it
 * as a terminal's Ctrl+C does.
 */
export class RunningCommand {
  output = "";
  readonly done: Promise<RunResult>;
  private readonly child: ChildProcess;

  constructor(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: string }) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (options.stdin !== undefined) this.child.stdin!.end(options.stdin);
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    const timer = setTimeout(() => this.interrupt("SIGKILL"), options.timeoutMs ?? 300_000);
    this.done = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : -1), output: this.output });
      }),
    );
  }

  /** Resolves when the output matches; rejects (with the output so far) after `timeoutMs` or if the command ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.done.then(() => (ended = true));
    while (!pattern.test(this.output)) {
      if (ended || Date.now() > deadline) throw new Error(`${ended ? "command ended" : "timed out"} before its output matched ${pattern}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Its pid, also its process group id (it was started as a group leader). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Signal the whole process group (what Ctrl+C in a terminal does with SIGINT). */
  interrupt(signal: NodeJS.Signals = "SIGINT"): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
  }
}

/** `cdktf deploy` of the project, running in the background. */
export function startDeploy(project: CdktfProject, extraEnv: Record<string, string> = {}): RunningCommand {
  return new RunningCommand(project.cdktfBinary, ["deploy", "--auto-approve", project.env.WEBSHARE_STACK], { cwd: project.dir, env: project.environment(extraEnv) });
}

/** `webshare deploy` of the project, running in the background. */
export function startWebshareDeploy(project: CdktfProject, extraEnv: Record<string, string> = {}): RunningCommand {
  return new RunningCommand("node", [path.join(REPO, "dist/lib/cli/main.js"), "deploy", "--auto-approve", project.env.WEBSHARE_STACK], { cwd: project.dir, env: project.environment(extraEnv) });
}
