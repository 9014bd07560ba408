/**
 * Several steps of a unit in one remote command (pure: shell text out, output in): each
 * stage runs only when the one before it exited 0, and a marker line with the host's clock
 * goes before the first and after each one. From the output, every stage gets its own
 * stdout and seconds, and a failure names its stage, as if each had been its own command.
 * Used by the release build (lifecycle/release-build.ts), whose steps ride in one exchange.
 */

export interface Stage {
  /** The step's name, for errors and progress. */
  readonly name: string;
  /** Shell text (built with lib/shell); its exit code ends the command when it is not 0. */
  readonly script: string;
}

/** What one stage printed on stdout, and how long it ran on the host (NaN: the host's clock could not tell). */
export interface StageOutput {
  readonly stdout: string;
  readonly seconds: number;
}

export interface StagedResult {
  /** The stages that ran to their end, in order. */
  readonly done: StageOutput[];
  /** The stage that exited non-zero (the rest did not run), with its stdout so far; stderr is the command's. */
  readonly failed?: { readonly stage: Stage; readonly code: number; readonly stdout: string };
}

const MARK = "@@webshare-stage@@";

/** `printf` of the marker and the host's clock (GNU date: nanoseconds; elsewhere the seconds are unknown). */
const markLine = `printf '\\n${MARK} %s\\n' "$(date +%s.%N)"`;

export function stagedScript(stages: readonly Stage[]): string {
  if (stages.length === 0) throw new Error("a staged command needs a stage");
  // Each in a subshell: a stage's `exit` or `cd` ends or moves only itself.
  return [markLine, ...stages.map((s) => `( ${s.script}\n) && ${markLine}`)].join(" && ");
}

/** Splits a staged command's stdout by stage (pure); `code` is the command's exit code. */
export function parseStaged(stages: readonly Stage[], stdout: string, code: number): StagedResult {
  // Every marker starts on a line of its own: "\n@@...@@ <clock>\n"; the text before the first is the login shell's.
  const parts = stdout.split(`\n${MARK} `).slice(1);
  const clocks = parts.map((p) => Number(p.slice(0, p.indexOf("\n"))));
  const texts = parts.map((p) => p.slice(p.indexOf("\n") + 1));
  const done: StageOutput[] = [];
  // Stage i printed between marker i and marker i + 1.
  for (let i = 0; i + 1 < parts.length && i < stages.length; i++) done.push({ stdout: texts[i]!, seconds: clocks[i + 1]! - clocks[i]! });
  if (code === 0 && done.length === stages.length) return { done };
  const at = Math.min(done.length, stages.length - 1);
  return { done: done.slice(0, at), failed: { stage: stages[at]!, code, stdout: texts[parts.length - 1] ?? stdout } };
}
