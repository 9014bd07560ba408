import { plural } from "../plural";
import type { Place } from "../errors";
import type { ExecResult, FilesAndScript, UploadFile } from "./remote-session";
import { ForwardingSession } from "./forwarding-session";

/**
 * A session that counts what it sends: remote commands and file transfers (atomic writes
 * and uploads, however many files). A unit prints the counts at its end, so the cost of a
 * deploy in round trips is visible (a WAN pays each one in latency): through the command
 * agent each count is one round trip; on the per-command fallback a command costs 3-4 and
 * a transfer 4 per file over SFTP.
 */
export class CountingSession extends ForwardingSession {
  commands = 0;
  transfers = 0;

  run(place: Place, step: string, script: string, options?: { stdin?: string; allowFailure?: false }): Promise<ExecResult> {
    this.commands++;
    return this.inner.run(place, step, script, options);
  }

  runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    this.commands++;
    return this.inner.runRaw(place, step, script, stdin);
  }

  writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void> {
    this.transfers++;
    return this.inner.writeFileAtomic(place, step, remotePath, content, mode);
  }

  putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    if (files.length > 0) this.transfers++;
    return this.inner.putFiles(place, step, files);
  }

  /** One exchange: counted as the command it is (its files ride with it). */
  runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    this.commands++;
    return this.inner.runWithFiles(place, step, request);
  }

  /** e.g. `12 remote commands, 4 file transfers`. */
  summary(): string {
    return `${plural(this.commands, "remote command")}, ${plural(this.transfers, "file transfer")}`;
  }
}
