import { NodeSSH } from "node-ssh";
import type { SFTPWrapper } from "ssh2";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { ConnectionSpec } from "../spec";
import { errors, Place, WebshareError } from "../errors";
import { sameFingerprint, sshFingerprint } from "./fingerprint";
import { HOST_KEY_INSECURE_ACCEPT_ANY_VALUE } from "./insecure";
import type { ExecResult, RemoteSession, UploadFile } from "./remote-session";
import { runFramed } from "./framing";
import { checkKeyFile } from "./key-file";
import { dfScript, diskFullError, isFull, NO_SPACE, parseDf, pathsInNoSpaceOutput } from "./disk-full";

export type { ExecResult, RemoteSession, UploadFile } from "./remote-session";

export function targetOf(connection: ConnectionSpec): string {
  return `${connection.user}@${connection.host}:${connection.port}`;
}

/** A local path as the key reader sees it: `~/` is the home directory, a relative path is from the cwd. */
export function resolveLocal(file: string): string {
  return file.startsWith("~/") ? path.join(os.homedir(), file.slice(2)) : path.resolve(file);
}

/**
 * One SSH connection to one host for a whole run: pinned host key, timeouts and keepalive,
 * commands whose failure carries their output, and atomic file writes over SFTP.
 */
export class HostSession implements RemoteSession {
  // A promise, so concurrent first uploads (a shared session) open one SFTP channel, not several.
  private sftpHandle?: Promise<SFTPWrapper>;
  private dropped?: Error;

  private constructor(
    private readonly ssh: NodeSSH,
    readonly target: string,
    /** Fingerprint the host presented (verified against the pin unless the opt-out is used). */
    readonly hostKey: string,
  ) {}

  /** Connect, verifying the host key against the pin. Secrets are read here, at apply time. */
  static async open(connection: ConnectionSpec, env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<HostSession> {
    const target = targetOf(connection);
    let seen: string | undefined;
    const ssh = new NodeSSH();
    let privateKey: string | undefined;
    if (connection.privateKeyPath !== undefined) {
      const keyFile = resolveLocal(connection.privateKeyPath);
      const unprotected = checkKeyFile(keyFile);
      if (unprotected !== undefined) throw errors.credentialsUnavailable(target, unprotected);
      try {
        privateKey = fs.readFileSync(keyFile, "utf8");
      } catch (e) {
        throw errors.credentialsUnavailable(target, `cannot read the private key file ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
    let passphrase: string | undefined;
    if (connection.passphraseEnv !== undefined) {
      passphrase = env[connection.passphraseEnv];
      if (passphrase === undefined) throw errors.credentialsUnavailable(target, `the key passphrase variable ${connection.passphraseEnv} is not set`);
    }
    const agent = connection.useAgent ? env.SSH_AUTH_SOCK : undefined;
    if (privateKey === undefined && agent === undefined) {
      throw errors.credentialsUnavailable(target, "no private key path is configured and SSH_AUTH_SOCK is not set (no ssh-agent)");
    }
    try {
      await ssh.connect({
        host: connection.host,
        port: connection.port,
        username: connection.user,
        privateKey,
        passphrase,
        agent,
        readyTimeout: connection.connectTimeoutSeconds * 1000,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          seen = sshFingerprint(key);
          return connection.hostKey === HOST_KEY_INSECURE_ACCEPT_ANY_VALUE || sameFingerprint(seen, connection.hostKey);
        },
      });
    } catch (e) {
      ssh.dispose();
      if (seen !== undefined && connection.hostKey !== HOST_KEY_INSECURE_ACCEPT_ANY_VALUE && !sameFingerprint(seen, connection.hostKey)) {
        throw errors.hostKeyMismatch(target, connection.hostKey, seen);
      }
      const message = (e as Error).message ?? String(e);
      // ssh2 puts the passphrase problem in the message; never echo key material itself.
      throw errors.connectFailed(target, /Timed out/i.test(message) ? `no SSH handshake within ${connection.connectTimeoutSeconds}s` : message);
    }
    if (connection.hostKey === HOST_KEY_INSECURE_ACCEPT_ANY_VALUE) {
      warn(`WARNING: host key of ${target} NOT verified (HOST_KEY_INSECURE_ACCEPT_ANY). It presented ${seen}; pin it: hostKey: "${seen}"`);
    }
    const session = new HostSession(ssh, target, seen ?? "unknown");
    ssh.connection?.on("error", (e: Error) => (session.dropped = e));
    ssh.connection?.on("close", () => (session.dropped ??= new Error("connection closed")));
    return session;
  }

  /** Run shell text (built with lib/shell) and return its output; throws with the output on failure. */
  async run(place: Place, step: string, script: string, options: { stdin?: string; allowFailure?: false; abort?: AbortSignal } = {}): Promise<ExecResult> {
    const result = await this.runRaw(place, step, script, options.stdin, options.abort);
    if (result.code !== 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim();
      if (NO_SPACE.test(output)) {
        const full = await this.fullFilesystem(place, step, pathsInNoSpaceOutput(output)[0]);
        if (full !== undefined) throw full;
      }
      throw errors.remoteCommandFailed(place, step, script, result.code, output);
    }
    return result;
  }

  /** The "no space left" error for the filesystem of `target` (or the home), if df says it is full. */
  private async fullFilesystem(place: Place, step: string, target: string | undefined, bytes = 0): Promise<WebshareError | undefined> {
    try {
      const df = parseDf((await this.runRaw(place, "check free space", dfScript(target))).stdout);
      return df !== undefined && isFull(df, bytes) ? diskFullError(place, step, target ?? "the home", df) : undefined;
    } catch {
      return undefined;
    }
  }

  /** False once the connection dropped or was disposed: every later call fails with connectionLost. */
  get alive(): boolean {
    return this.dropped === undefined;
  }

  /**
   * Like run, but returns the exit code instead of throwing on a non-zero one. `abort` closes
   * the command's channel (the broker's way to do what a direct client's exit does).
   */
  async runRaw(place: Place, step: string, script: string, stdin?: string, abort?: AbortSignal): Promise<ExecResult & { code: number }> {
    if (this.dropped) throw errors.connectionLost(place, step);
    let response;
    let channel: { close(): void } | undefined;
    const onAbort = () => channel?.close();
    abort?.addEventListener("abort", onAbort);
    try {
      const onChannel = (opened: { close(): void }) => (abort?.aborted ? opened.close() : (channel = opened));
      // Framed: whatever the login shell's startup files print before the command is cut off.
      response = await runFramed(async (framed, input) => {
        const r = await this.ssh.execCommand(framed, { stdin: input, noTrim: true, onChannel });
        // node-ssh resolves with code null when the connection drops mid-command.
        if (r.code === null) throw errors.connectionLost(place, step);
        return { stdout: r.stdout, stderr: r.stderr, code: r.code };
      }, script, stdin);
    } catch {
      throw errors.connectionLost(place, step);
    } finally {
      abort?.removeEventListener("abort", onAbort);
    }
    return { stdout: response.stdout, stderr: response.stderr, code: response.code };
  }

  private async sftp(place: Place, step: string): Promise<SFTPWrapper> {
    if (this.dropped) throw errors.connectionLost(place, step);
    this.sftpHandle ??= this.ssh.requestSFTP();
    try {
      return await this.sftpHandle;
    } catch (e) {
      this.sftpHandle = undefined;
      throw e;
    }
  }

  /** Write a file atomically: a temp file beside it, then one POSIX rename over the old one. */
  async writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode = 0o600): Promise<void> {
    const sftp = await this.sftp(place, step);
    const temp = `${remotePath}.webshare-tmp-${randomBytes(4).toString("hex")}`;
    try {
      // Created with `mode` (sftp open with attributes), so it is never readable by others, not even for a moment.
      await new Promise<void>((resolve, reject) => sftp.writeFile(temp, content, { mode }, (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve, reject) => sftp.ext_openssh_rename(temp, remotePath, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      if (this.dropped) throw errors.connectionLost(place, step);
      // Looked at before the partial temp file is removed (that frees what it took), then no temp file stays behind.
      const full = await this.fullFilesystem(place, step, remotePath, Buffer.byteLength(content));
      await new Promise<void>((resolve) => sftp.unlink(temp, () => resolve()));
      if (full !== undefined) throw full;
      throw new WebshareError(`${place.unit} on ${place.target}: step "${step}" failed: cannot write ${remotePath}: ${(e as Error).message}`);
    }
  }

  /** Upload local files (absolute local -> absolute remote paths; parent dirs must exist). */
  async putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    if (files.length === 0) return;
    const sftp = await this.sftp(place, step);
    const done = new Set<string>();
    try {
      // Grouped by mode: each file is chmod-ed to its mode right after it is created, before its content is written.
      const byMode = new Map<number | undefined, UploadFile[]>();
      for (const f of files) byMode.set(f.mode, [...(byMode.get(f.mode) ?? []), f]);
      for (const [mode, group] of byMode) {
        await this.ssh.putFiles(
          group.map((f) => ({ local: f.local, remote: f.remote })),
          { sftp, concurrency: 8, transferOptions: mode === undefined ? {} : { mode }, },
        ).catch((e: Error & { transferred?: { remote: string }[] }) => {
          for (const t of e.transferred ?? []) done.add(t.remote);
          throw e;
        });
        for (const f of group) done.add(f.remote);
      }
    } catch (e) {
      if (this.dropped) throw errors.connectionLost(place, step);
      // Free space is looked at before the partial files go (that frees what they took); then no
      // partial file stays behind: a later run would take a cut-off wheel for a whole one.
      const left = files.filter((f) => !done.has(f.remote));
      const full = await this.fullFilesystem(place, step, (left[0] ?? files[0]).remote);
      await Promise.all(left.map((f) => new Promise<void>((resolve) => sftp.unlink(f.remote, () => resolve()))));
      if (full !== undefined) throw full;
      throw new WebshareError(`${place.unit} on ${place.target}: step "${step}" failed: upload error: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.dropped ??= new Error("disposed");
    void this.sftpHandle?.then((sftp) => sftp.end(), () => undefined);
    this.ssh.dispose();
  }
}
