import type { Place } from "../errors";

/**
 * A file to upload: an absolute remote path, its mode on the host (default: the server's,
 * 0644 under the usual umask), and either an absolute local path or the content itself (a
 * generated file, e.g. a release's entry point and manifest: one transfer with the rest).
 * Generated content may be written `atomic`ally (a temp file beside it, then a rename: a
 * file something reads while it is replaced, like a secret).
 */
export type UploadFile = { readonly remote: string; readonly mode?: number } & ({ readonly local: string } | { readonly content: string | Buffer; readonly atomic?: boolean });

/**
 * One exchange with the host (`RemoteSession.runWithFiles`): `before` runs first (e.g. it
 * makes the dirs the files go to), then the files are written, then `script` runs with
 * `stdin`. Through the command agent that is one round trip; on the per-command fallback,
 * the same three in turn.
 */
export interface FilesAndScript {
  readonly before?: string;
  readonly files: UploadFile[];
  readonly script: string;
  readonly stdin?: string;
}

/** Output of one remote command. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * What lifecycle and drift code needs from a connection to a host. A direct `HostSession`
 * and a `BrokeredSession` (the shared connection of a `webshare deploy` run) both give it,
 * with the same errors, so callers never know which one they have.
 */
export interface RemoteSession {
  /** `user@host:port`, for messages. */
  readonly target: string;
  /** `alias -> user@host:port via jump` when an ssh config alias or jump hosts are used; else the target. */
  readonly route?: string;
  /** Fingerprint the host presented. */
  readonly hostKey: string;
  /** Run shell text (built with lib/shell) and return its output; throws with the output on failure. */
  run(place: Place, step: string, script: string, options?: { stdin?: string; allowFailure?: false }): Promise<ExecResult>;
  /** Like run, but returns the exit code instead of throwing on a non-zero one. */
  runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }>;
  /** Write a file atomically: a temp file beside it (created with `mode`, default 0600), then one POSIX rename over the old one. */
  writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void>;
  /** Upload files, all in one transfer (parent dirs must exist; written in place, not atomically: for a dir nothing serves yet). */
  putFiles(place: Place, step: string, files: UploadFile[]): Promise<void>;
  /**
   * `before`, the files, then `script`, in one exchange (FilesAndScript). A failing `before`
   * or file write throws (as `run` and `putFiles` do) and nothing after it runs; the
   * script's exit code is returned, as `runRaw` does.
   */
  runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }>;
  /** Close this session; later calls fail as after a dropped connection. */
  dispose(): void;
}
