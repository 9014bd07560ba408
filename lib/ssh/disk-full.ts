import * as path from "node:path";
import { errors, Place, WebshareError } from "../errors";
import { quote } from "../shell";

/**
 * A full filesystem on the host, named as such. A command that runs out of space says so
 * ("No space left on device"); an SFTP write does not (OpenSSH's sftp-server answers a bare
 * "Failure"). So after a failed command whose output says so, or any failed SFTP write, the
 * filesystem of the path is looked at with `df`, and when it has no room left the error
 * says "no space left on <mount point>" with df's lines for it.
 */

/** What a full disk (or an exhausted quota) looks like in a command's output. */
export const NO_SPACE = /No space left on device|Disk quota exceeded/;

/** Absolute paths a failed command's output names on its "No space left" lines (at most 3). */
export function pathsInNoSpaceOutput(output: string): string[] {
  const found: string[] = [];
  for (const line of output.split("\n").filter((l) => NO_SPACE.test(l))) {
    const m = /['"‘’“](\/[^'"‘’“”]+)['"‘’“”]/.exec(line) ?? /(\/[^\s:'"]+)/.exec(line);
    if (m?.[1] !== undefined && !found.includes(m[1])) found.push(m[1]);
  }
  return found.slice(0, 3);
}

/** Shell text: `df -P` and `df -Pi` of the filesystem holding `target` (its nearest existing ancestor), or of the home. */
export function dfScript(target: string | undefined): string {
  const start = target === undefined ? `"$HOME"` : quote(target);
  return `p=${start}; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname -- "$p"); done; df -P -- "$p" && df -Pi -- "$p"`;
}

export interface DfReport {
  readonly mount: string;
  readonly availableKiB: number;
  readonly inodesFree?: number;
  /** df's own lines (header + filesystem, both reports). */
  readonly text: string;
}

/** Reads what dfScript printed (pure); undefined when it is not df's output. */
export function parseDf(output: string): DfReport | undefined {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  const rows = lines.filter((l) => !/^Filesystem\s/.test(l)).map((l) => l.trim().split(/\s+/));
  const blocks = rows[0];
  if (blocks === undefined || blocks.length < 6 || !/^\d+$/.test(blocks[3] ?? "")) return undefined;
  const inodes = rows[1];
  const inodesFree = inodes !== undefined && /^\d+$/.test(inodes[3] ?? "") ? Number(inodes[3]) : undefined;
  return { mount: blocks.slice(5).join(" "), availableKiB: Number(blocks[3]), inodesFree, text: lines.join("\n") };
}

/** Whether the filesystem cannot take `bytes` more (or any new file). */
export function isFull(df: DfReport, bytes = 0): boolean {
  return df.availableKiB * 1024 <= bytes || df.availableKiB === 0 || df.inodesFree === 0;
}

export function diskFullError(place: Place, step: string, target: string, df: DfReport): WebshareError {
  return new WebshareError(
    `${place.unit} on ${place.target}: step "${step}" failed: no space left on ${df.mount} (writing ${target})`,
    `free space on ${df.mount} on the host (old releases and venvs are pruned after each successful deploy; see webshare releases), then deploy again`,
    df.text,
  );
}

/** Whether the filesystem of `target` (or the home) cannot take `bytes` more, asked with `runRaw`: its error, or undefined (also when df cannot tell). */
export async function fullFilesystemError(runRaw: (script: string) => Promise<{ stdout: string }>, place: Place, step: string, target: string | undefined, bytes = 0): Promise<WebshareError | undefined> {
  try {
    const df = parseDf((await runRaw(dfScript(target))).stdout);
    return df !== undefined && isFull(df, bytes) ? diskFullError(place, step, target ?? "the home", df) : undefined;
  } catch {
    return undefined;
  }
}

/** The error of a command that exited non-zero (`output`: what it printed): a full disk named as such (df asked with `runRaw`). */
export async function commandFailedError(runRaw: (script: string) => Promise<{ stdout: string }>, place: Place, step: string, script: string, code: number, output: string): Promise<WebshareError> {
  if (NO_SPACE.test(output)) {
    const full = await fullFilesystemError(runRaw, place, step, pathsInNoSpaceOutput(output)[0]);
    if (full !== undefined) return full;
  }
  return errors.remoteCommandFailed(place, step, script, code, output);
}

/** The directory whose filesystem a remote path's write uses. */
export function dirOf(remotePath: string): string {
  return path.posix.dirname(remotePath);
}
