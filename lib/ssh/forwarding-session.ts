import type { Place } from "../errors";
import type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "./remote-session";

/** A session that passes every call to `inner`: the base of the ones that add one thing to it (counting, locking). */
export class ForwardingSession implements RemoteSession {
  constructor(protected readonly inner: RemoteSession) {}

  get target(): string {
    return this.inner.target;
  }

  get route(): string | undefined {
    return this.inner.route;
  }

  get hostKey(): string {
    return this.inner.hostKey;
  }

  run(place: Place, step: string, script: string, options?: { stdin?: string; allowFailure?: false }): Promise<ExecResult> {
    return this.inner.run(place, step, script, options);
  }

  runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    return this.inner.runRaw(place, step, script, stdin);
  }

  writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void> {
    return this.inner.writeFileAtomic(place, step, remotePath, content, mode);
  }

  putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    return this.inner.putFiles(place, step, files);
  }

  runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    return this.inner.runWithFiles(place, step, request);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
