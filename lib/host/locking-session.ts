import { errors, type Place } from "../errors";
import type { HostLockHandle } from "../lifecycle/host-lock";
import type { ExecResult, RemoteSession, UploadFile } from "../ssh/remote-session";
import { ForwardingSession } from "../ssh/forwarding-session";

/**
 * A unit's session whose locks are taken by its first command: that command rides behind
 * the lock's try in one exchange (`HostLockHandle.acquireWith`), so a unit whose locks are
 * free pays no round trip of its own for them. When they are held, the try waits as it
 * always did, then the command runs alone. Later calls (and calls made while the locks are
 * being taken) go straight through once they are held; a transfer as the first call takes
 * the locks first. A unit that never reaches the host takes no lock at all.
 */
export class LockingSession extends ForwardingSession {
  private taking?: Promise<unknown>;

  constructor(
    inner: RemoteSession,
    private readonly lock: Pick<HostLockHandle, "acquire" | "acquireWith">,
  ) {
    super(inner);
  }

  /** Whether anything asked for the locks yet (no: there is nothing to release). */
  get touched(): boolean {
    return this.taking !== undefined;
  }

  async run(place: Place, step: string, script: string, options: { stdin?: string; allowFailure?: false } = {}): Promise<ExecResult> {
    if (this.taking !== undefined) {
      await this.taking;
      return this.inner.run(place, step, script, options);
    }
    const result = await this.first(step, script, options.stdin);
    if (result.code !== 0) throw errors.remoteCommandFailed(place, step, script, result.code, `${result.stdout}\n${result.stderr}`.trim());
    return result;
  }

  async runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    if (this.taking !== undefined) {
      await this.taking;
      return this.inner.runRaw(place, step, script, stdin);
    }
    return this.first(step, script, stdin);
  }

  async writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void> {
    await (this.taking ??= this.lock.acquire());
    return this.inner.writeFileAtomic(place, step, remotePath, content, mode);
  }

  async putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    await (this.taking ??= this.lock.acquire());
    return this.inner.putFiles(place, step, files);
  }

  private first(step: string, script: string, stdin: string | undefined): Promise<ExecResult & { code: number }> {
    const result = this.lock.acquireWith(step, script, stdin);
    this.taking = result;
    return result;
  }
}
