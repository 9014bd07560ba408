import { randomBytes } from "node:crypto";

/**
 * Framing of remote command output (pure). sshd runs every command through the account's
 * login shell, and on many hosts that shell prints something first: Debian's bash reads
 * ~/.bashrc even for `ssh host command`, so an `echo "Welcome"` there lands in front of
 * every command's stdout. Code that reads output (`acquired`, the lock state, JSON from the
 * host's Python) must never see it. So each command first prints a fresh random marker line
 * on stdout AND on stderr, and everything up to and including the first marker is cut off.
 *
 * Only output printed BEFORE the command starts is removed; a startup file that prints
 * after the command (e.g. from an EXIT trap) is not covered.
 */

/** A marker no startup file prints: fresh per command. */
export function newMarker(): string {
  return `webshare-output-${randomBytes(12).toString("hex")}`;
}

/**
 * Shell text that prints the marker on both streams, then runs `script`. The script follows
 * on its own line, so any script text (an `if`, a heredoc, `a && b; c`) keeps its meaning
 * and its exit status is the command's.
 */
export function framedScript(script: string, marker: string): string {
  return `printf '%s\\n' ${marker}; printf '%s\\n' ${marker} >&2\n${script}`;
}

/**
 * The command's own output: what follows the first marker line. `undefined` when the marker
 * never came (the login shell failed before running the command), so the caller can keep
 * the raw text for its error message.
 */
export function unframe(output: string, marker: string): string | undefined {
  const line = `${marker}\n`;
  if (output.startsWith(line)) return output.slice(line.length);
  const at = output.indexOf(`\n${line}`);
  return at < 0 ? undefined : output.slice(at + 1 + line.length);
}

/** Both streams of a framed command: noise before the markers removed; kept as is when a marker is missing. */
export function unframeResult<T extends { stdout: string; stderr: string }>(result: T, marker: string): T & { framed: boolean } {
  const stdout = unframe(result.stdout, marker);
  const stderr = unframe(result.stderr, marker);
  return { ...result, stdout: stdout ?? result.stdout, stderr: stderr ?? result.stderr, framed: stdout !== undefined };
}

/** What runs one shell command on the host (an exec channel, or /bin/sh in the middle tier). */
export type Exec = (script: string, stdin?: string) => Promise<{ stdout: string; stderr: string; code: number }>;

/** Run `script` framed by a fresh marker; the result holds only the command's own output. */
export async function runFramed(exec: Exec, script: string, stdin?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const marker = newMarker();
  const { framed: _framed, ...result } = unframeResult(await exec(framedScript(script, marker), stdin), marker);
  return result;
}
