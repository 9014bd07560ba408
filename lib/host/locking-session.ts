import { errors, type Place } from "../errors";
import type { HostLockHandle } from "../lifecycle/host-lock";
import type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "../ssh/remote-session";
import { ForwardingSession } from "../ssh/forwarding-session";

/**
 * A unit's session whose locks are taken by its first command: that command rides behind
 * the lock's try in one exchange (`HostLockHandle.acquireWith`), so a unit whose locks are
 * free pays no round trip of its own for them. When they are held, the try waits as it
 * always did, then the command runs alone. Later calls (and calls made while the locks are
 * being taken) go straight through once they are held; a transfer as the first call takes
 * the locks first. A unit that never reaches the host takes no lock at all.
 *
 * `withoutHostLock` (the unit's long private work, pip install) works the same way: the
 * work's first command starts by letting go of the host lock, and the first command after
 * the work takes it again behind its try. Neither costs an exchange of its own. The work's
 * last command may take it again itself (`retakeWith`: the release build ends with the
 * switch), which saves the next command's.
 */
export class LockingSession extends ForwardingSession {
  private taking?: Promise<unknown>;
  /** Shell text the next command starts with: letting go of the host lock. */
  private letGo?: string;
  /** The host lock was let go: the next command takes it again first. */
  private retake = false;
  /** The work's own last command took the host lock again (retakeWith). */
  private heldAgain = false;

  constructor(
    inner: RemoteSession,
    private readonly lock: Pick<HostLockHandle, "acquire" | "acquireWith" | "tryWith" | "letGoScript">,
  ) {
    super(inner);
  }

  /** Run `work` (on the unit's own paths only) with the host lock let go, the unit locks kept. */
  readonly withoutHostLock = async <T>(work: () => Promise<T>): Promise<T> => {
    await (this.taking ??= this.lock.acquire());
    this.letGo = this.lock.letGoScript();
    this.heldAgain = false;
    let done = false;
    try {
      const result = await work();
      done = true;
      return result;
    } finally {
      // Work that sent no command never let go of it; failed work does not take it again
      // (its error ends the run, and its cleanup touches the unit's own paths only).
      if (this.letGo === undefined && done && !this.heldAgain) this.retake = true;
      this.letGo = undefined;
    }
  };

  /**
   * For the last command of `withoutHostLock`'s work: shell text that takes the host lock
   * again (one try, never waiting) and then runs `then`, a step that needs it (the switch).
   * `took` reads that command's output, during the work or after it: what `then` printed,
   * or undefined when the lock was not free (`then` did not run; the next command takes the
   * lock as usual, waiting if it must).
   */
  readonly retakeWith = (then: string): { script: string; took(stdout: string): string | undefined } => {
    const ride = this.lock.tryWith(then);
    return {
      script: ride.script,
      took: (stdout) => {
        const out = ride.took(stdout);
        if (out !== undefined) {
          this.heldAgain = true;
          this.retake = false;
        }
        return out;
      },
    };
  };

  /** Whether anything asked for the locks yet (no: there is nothing to release). */
  get touched(): boolean {
    return this.taking !== undefined;
  }

  async run(place: Place, step: string, script: string, options: { stdin?: string; allowFailure?: false } = {}): Promise<ExecResult> {
    if (this.taking !== undefined && !this.retake) {
      await this.taking;
      return this.inner.run(place, step, this.withLetGo(script), options);
    }
    const result = await this.take(step, script, options.stdin);
    if (result.code !== 0) throw errors.remoteCommandFailed(place, step, script, result.code, `${result.stdout}\n${result.stderr}`.trim());
    return result;
  }

  async runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    if (this.taking !== undefined && !this.retake) {
      await this.taking;
      return this.inner.runRaw(place, step, this.withLetGo(script), stdin);
    }
    return this.take(step, script, stdin);
  }

  async writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void> {
    await this.held();
    return this.inner.writeFileAtomic(place, step, remotePath, content, mode);
  }

  async putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    await this.held();
    return this.inner.putFiles(place, step, files);
  }

  /** The let-go of the host lock rides in front of `before`; the lock's try does not (it takes the locks first, like a transfer). */
  async runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    if (this.taking !== undefined && !this.retake) {
      await this.taking;
      return this.inner.runWithFiles(place, step, this.letGo === undefined ? request : { ...request, before: this.withLetGo(request.before ?? "true") });
    }
    await this.held();
    return this.inner.runWithFiles(place, step, request);
  }

  /** The locks held (taken now if need be), for a call that cannot carry the try. */
  private held(): Promise<unknown> {
    if (this.taking === undefined || this.retake) {
      this.retake = false;
      this.taking = this.lock.acquire();
    }
    return this.taking;
  }

  /** The command with the lock's try in front of it (the first, or the first after the work). */
  private take(step: string, script: string, stdin: string | undefined): Promise<ExecResult & { code: number }> {
    this.retake = false;
    const result = this.lock.acquireWith(step, script, stdin);
    this.taking = result;
    return result;
  }

  /** The work's first command starts by letting go of the host lock. */
  private withLetGo(script: string): string {
    const letGo = this.letGo;
    if (letGo === undefined) return script;
    this.letGo = undefined;
    return `${letGo}; ${script}`;
  }
}
