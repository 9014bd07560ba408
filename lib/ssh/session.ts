import { NodeSSH } from "node-ssh";
import type { ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import * as fs from "node:fs";
import type { Duplex } from "node:stream";
import { randomBytes } from "node:crypto";
import type { ConnectionSpec } from "../spec";
import { errors, Place, WebshareError } from "../errors";
import { sameFingerprint, sshFingerprint } from "./fingerprint";
import { resolveConnection, type ResolvedConnection, type ResolvedHop } from "./resolve";
import type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "./remote-session";
import { framedScript, newMarker, runFramed } from "./framing";
import { AgentChannel, AgentLost, CommandAgent, type AgentPayload, type AgentReply } from "./agent";
import { AGENT_PROGRAM } from "./agent-program";
import { commandLine, quote } from "../shell";
import { checkKeyFile } from "./key-file";
import { commandFailedError, fullFilesystemError } from "./disk-full";
import { loginAhead, type AheadState } from "./login-ahead";
import type { EarlySockets } from "./early-sockets";

export type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "./remote-session";
export { resolveLocal, targetOf } from "./resolve";

/** ssh2's host key algorithms, strongest first; known_hosts key types move to the front. */
const HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

function hostKeyAlgorithms(keyTypes: readonly string[]): string[] | undefined {
  if (keyTypes.length === 0) return undefined;
  const preferred = keyTypes.flatMap((t) => (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t])).filter((t) => HOST_KEY_ALGORITHMS.includes(t));
  return [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])];
}

/** A failed connect attempt: the error to show, and whether another attempt may help. */
export class AttemptFailure extends Error {
  constructor(
    readonly error: Error,
    readonly retryable: boolean,
    readonly reason: string,
    /** The connection ended while an early key login was unanswered: try once more without it. */
    readonly aheadUnanswered = false,
  ) {
    super(error.message);
  }
}

/** Network trouble that may pass (the host restarting, a listener not up yet); never host key or auth trouble. */
const RETRYABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

export function isRetryableConnectError(e: unknown): boolean {
  const err = e as { code?: unknown; level?: unknown; message?: unknown; reason?: unknown };
  if (typeof err?.code === "string" && RETRYABLE_CODES.has(err.code)) return true;
  if (err?.level === "client-timeout") return true; // no SSH handshake in time
  const message = typeof err?.message === "string" ? err.message : "";
  // The socket closed before the handshake (sshd starting up or dropping over MaxStartups).
  if (/Connection lost before handshake|Timed out while waiting for handshake/i.test(message)) return true;
  // A jump host could not reach the next hop (SSH_OPEN_CONNECT_FAILED): the same as a refused connect.
  if (err?.reason === 2 || /Channel open failure: (Connection refused|connect failed)/i.test(message)) return true;
  return false;
}

function readCredentials(hop: ResolvedHop, env: NodeJS.ProcessEnv): { privateKey?: string; passphrase?: string; agent?: string } {
  let privateKey: string | undefined;
  if (hop.privateKeyPath !== undefined) {
    const unprotected = checkKeyFile(hop.privateKeyPath);
    if (unprotected !== undefined) throw errors.credentialsUnavailable(hop.target, unprotected);
    try {
      privateKey = fs.readFileSync(hop.privateKeyPath, "utf8");
    } catch (e) {
      throw errors.credentialsUnavailable(hop.target, `cannot read the private key file ${hop.privateKeyPath}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
  let passphrase: string | undefined;
  if (hop.passphraseEnv !== undefined && privateKey !== undefined) {
    passphrase = env[hop.passphraseEnv];
    if (passphrase === undefined) throw errors.credentialsUnavailable(hop.target, `the key passphrase variable ${hop.passphraseEnv} is not set`);
  }
  const agent = hop.useAgent ? env.SSH_AUTH_SOCK : undefined;
  if (privateKey === undefined && agent === undefined) {
    throw errors.credentialsUnavailable(hop.target, "no private key path is configured and SSH_AUTH_SOCK is not set (no ssh-agent)");
  }
  return { privateKey, passphrase, agent };
}

/** What a hop's connect saw: the host key it was shown, and what became of an early key login. */
interface HopSeen {
  key?: string;
  ahead?: () => AheadState;
}

/** The ssh2 options of one hop: credentials, timeouts, and the host key check against its pins. */
function hopConfig(hop: ResolvedHop, timeoutSeconds: number, env: NodeJS.ProcessEnv, sock: Duplex | undefined, seen: HopSeen): ConnectConfig & { privateKey?: string } {
  const credentials = readCredentials(hop, env);
  return {
    host: hop.host,
    port: hop.port,
    username: hop.user,
    ...credentials,
    // Straight to the methods we have: ssh2 would ask with "none" first (one round trip
    // more per login, 11 -> 10 network turns through the bench's proxy).
    authHandler: [...(credentials.privateKey !== undefined ? ["publickey" as const] : []), ...(credentials.agent !== undefined ? ["agent" as const] : [])],
    sock,
    readyTimeout: timeoutSeconds * 1000,
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    ...(hostKeyAlgorithms(hop.keyTypes) ? { algorithms: { serverHostKey: hostKeyAlgorithms(hop.keyTypes) as never } } : {}),
    hostVerifier: (key: Buffer) => {
      seen.key = sshFingerprint(key);
      if (hop.revoked.some((r) => sameFingerprint(r.fingerprint, seen.key as string))) return false;
      return hop.insecure || hop.pins.some((p) => sameFingerprint(p, seen.key as string));
    },
  };
}

/** The variable that turns the early key login off (`off`): ssh2 then logs in its own way. */
export const LOGIN_AHEAD_ENV = "WEBSHARE_SSH_LOGIN_AHEAD";

/**
 * Connect one hop. A key login goes out early (lib/ssh/login-ahead.ts, 2 round trips less)
 * unless `ahead` is false; `seen` learns the host key and the early login's fate.
 */
async function connectHop(client: NodeSSH, config: ConnectConfig & { privateKey?: string }, ahead: boolean, seen: HopSeen): Promise<void> {
  const methods = config.authHandler as ("publickey" | "agent")[];
  const early = ahead && config.privateKey !== undefined ? loginAhead(config.username!, config.privateKey, config.passphrase as string | undefined, methods.filter((m) => m !== "publickey")) : undefined;
  const connecting = client.connect(early === undefined ? config : { ...config, authHandler: early.authHandler });
  // node-ssh made the ssh2 client and called its connect() synchronously (a key given as
  // text): armed now, before any data of the connection is read.
  if (early !== undefined && client.connection !== null && early.arm(client.connection)) seen.ahead = early.state;
  await connecting;
}

/** Why a hop's connect failed, as the error a user sees and whether to try again. */
function hopFailure(hop: ResolvedHop, e: unknown, seen: HopSeen, timeoutSeconds: number): AttemptFailure {
  if (e instanceof WebshareError) return new AttemptFailure(e, false, e.message);
  if (seen.key !== undefined) {
    const revoked = hop.revoked.find((r) => sameFingerprint(r.fingerprint, seen.key as string));
    if (revoked !== undefined) return new AttemptFailure(errors.hostKeyRevoked(hop.target, seen.key, revoked.where), false, "revoked host key");
    if (!hop.insecure && !hop.pins.some((p) => sameFingerprint(p, seen.key as string))) {
      return new AttemptFailure(errors.hostKeyMismatch(hop.target, hop.pins.join(", "), seen.key), false, "host key mismatch");
    }
  }
  const message = (e as Error)?.message ?? String(e);
  const timedOut = (e as { level?: string })?.level === "client-timeout" || /Timed out/i.test(message);
  // ssh2 puts the passphrase problem in the message; never echo key material itself.
  const reason = timedOut ? `no SSH handshake within ${timeoutSeconds}s` : message;
  // A server that drops a login sent before it accepted the auth service (none known; RFC
  // 4253 orders packets, OpenSSH reads them in turn) gets the usual login on the next try.
  const aheadUnanswered = !timedOut && seen.ahead?.() === "sent";
  return new AttemptFailure(errors.connectFailed(hop.target, reason), isRetryableConnectError(e), reason, aheadUnanswered);
}

/** The variable that picks the command agent's interpreter (default `python3`), or `off` for one exec channel per command. */
export const AGENT_ENV = "WEBSHARE_SSH_AGENT";

/** How long the agent may take to say hello before the session falls back to exec channels. */
const AGENT_START_MS = 15_000;

/** An ssh2 exec channel as the command agent's channel. */
function execChannel(channel: ClientChannel): AgentChannel {
  return {
    write: (chunk) => channel.write(chunk),
    onceDrain: (listener) => channel.once("drain", listener),
    onData: (listener) => channel.on("data", listener),
    onStderr: (listener) => channel.stderr.on("data", listener),
    onClose: (listener) => channel.on("close", listener),
    close: () => {
      try {
        channel.end();
        channel.close();
      } catch {
        // the connection is gone already: sshd closed the agent's stdin
      }
    },
  };
}

/**
 * One SSH connection to one host for a whole run: pinned host key, timeouts and keepalive,
 * commands whose failure carries their output, and atomic file writes. Reached directly or
 * through jump hosts (each with its own pinned key), with bounded retries for refused, reset
 * or timed-out connects.
 *
 * Commands and file writes go through a command agent (lib/ssh/agent.ts): one exec channel,
 * opened on first use, running a fixed Python program on the host, so each call costs one
 * network round trip instead of a channel open, an exec request and the close (3-4), and
 * an upload of many files one instead of several per file over SFTP. A host where it cannot
 * start (no `python3`), or `WEBSHARE_SSH_AGENT=off`, gets the per-command exec channels and
 * SFTP, with the same results and errors.
 */
export class HostSession implements RemoteSession {
  // A promise, so concurrent first uploads (a shared session) open one SFTP channel, not several.
  private sftpHandle?: Promise<SFTPWrapper>;
  // Likewise one agent; resolves to undefined when it cannot start (then exec channels and SFTP).
  private agentHandle?: Promise<CommandAgent | undefined>;
  private agentFailed?: string;
  /** The agent while it is up (undefined while it starts, after it ended, or when it failed), for a synchronous dispose. */
  private agentUp?: CommandAgent;
  /** A command is on its own exec channel while the agent starts (runRaw). */
  private earlyExec = false;
  private dropped?: Error;

  private constructor(
    private readonly ssh: NodeSSH,
    private readonly jumps: NodeSSH[],
    readonly target: string,
    /** Fingerprint the host presented (verified against the pin unless the opt-out is used). */
    readonly hostKey: string,
    /** `alias -> user@host:port via jump`, for the progress line. */
    readonly route: string,
    /** The agent's interpreter on the host, or undefined for exec channels only. */
    private readonly agentPython: string | undefined,
    /** Where a note about the connection goes (the agent could not start). */
    private readonly warn: (line: string) => void,
  ) {}

  /**
   * How calls reach the host: `agent` (one channel for all), `exec` (a channel per command
   * and SFTP: the agent is off or could not start, see `agentProblem`), or `unopened` (no
   * call yet).
   */
  async transport(): Promise<"agent" | "exec" | "unopened"> {
    if (this.agentPython === undefined) return "exec";
    if (this.agentHandle === undefined) return "unopened";
    return (await this.agentHandle) === undefined ? "exec" : "agent";
  }

  /** Start the command agent now, ahead of the first command (a pre-connect); never fails: the first command tries again. */
  async warm(): Promise<void> {
    await this.agent().catch(() => undefined);
  }

  /** Why the agent could not start, if it could not. */
  get agentProblem(): string | undefined {
    return this.agentFailed;
  }

  /**
   * The running agent, started on first use; undefined when it cannot start on this host
   * (then it is not tried again on this connection). One that ended while the connection
   * stays up (killed on the host) is started again by the next call.
   */
  private agent(): Promise<CommandAgent | undefined> {
    if (this.agentPython === undefined) return Promise.resolve(undefined);
    this.agentHandle ??= this.startAgent(this.agentPython).then(
      (agent) => {
        this.agentUp = agent;
        if (this.dropped) agent.close();
        agent.onClose(() => {
          if (this.agentUp === agent) this.agentUp = undefined;
          if (this.agentHandle === handle) this.agentHandle = undefined;
        });
        return agent;
      },
      (e: Error) => {
        this.agentFailed = e.message;
        // Said once per connection: on a slow link every command now costs 3-4 round trips, not 1.
        if (!this.dropped) this.warn(`webshare: ${this.route}: no command agent (${e.message}); each command gets its own SSH channel, 3-4 round trips instead of 1. ${AGENT_ENV}=/path/to/python3 names the host's Python 3, ${AGENT_ENV}=off goes without the agent and this note`);
        return undefined;
      },
    );
    const handle = this.agentHandle;
    return handle;
  }

  private async startAgent(python: string): Promise<CommandAgent> {
    const marker = newMarker();
    // Started through the login shell once (as sshd runs every command), so framed by a marker
    // like every command; `exec` leaves python3 as the channel's process.
    const script = framedScript(`exec ${commandLine(["env", "PYTHONCOERCECLOCALE=0", python, "-c", AGENT_PROGRAM])}`, marker);
    const connection = this.ssh.connection;
    if (connection === null) throw new AgentLost("not connected");
    const channel = await new Promise<ClientChannel>((resolve, reject) => connection.exec(script, (e, c) => (e ? reject(e) : resolve(c))));
    return CommandAgent.start(execChannel(channel), marker, AGENT_START_MS);
  }

  /** Resolve the spec on this machine (ssh config, known_hosts) and connect. Secrets are read here, at apply time. */
  static async open(connection: ConnectionSpec, env: NodeJS.ProcessEnv, warn: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<HostSession> {
    return HostSession.openResolved(resolveConnection(connection, { env }), env, warn);
  }

  /** Connect through the jump chain, verifying every hop's key; retry what may pass, within the bounds. */
  static async openResolved(
    resolved: ResolvedConnection,
    env: NodeJS.ProcessEnv,
    warn: (line: string) => void = (l) => process.stderr.write(l + "\n"),
    options: {
      /** TCP connections opened ahead (lib/ssh/early-sockets.ts): the first hop's is used by the first attempt. */
      readonly sockets?: EarlySockets;
      readonly sleep?: (ms: number) => Promise<void>;
    } = {},
  ): Promise<HostSession> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    resolved.notes.forEach((n) => warn(`webshare: ${n}`));
    const started = Date.now();
    let delay = 1000;
    let ahead = env[LOGIN_AHEAD_ENV] !== "off";
    for (let attempt = 1; ; attempt++) {
      try {
        return await HostSession.attempt(resolved, env, warn, ahead, options.sockets);
      } catch (e) {
        const failure = e instanceof AttemptFailure ? e : new AttemptFailure(e as Error, false, (e as Error).message);
        if (ahead && failure.aheadUnanswered) {
          ahead = false;
          warn(`[connect] ${resolved.route}: the connection ended before the server answered the early key login (${failure.reason}); logging in again the usual way (${LOGIN_AHEAD_ENV}=off always does)`);
          attempt--;
          continue;
        }
        const elapsed = Date.now() - started;
        if (!failure.retryable || attempt >= resolved.connectAttempts || elapsed + delay > resolved.connectRetrySeconds * 1000) throw failure.error;
        warn(`[connect] ${resolved.route}: attempt ${attempt}/${resolved.connectAttempts} failed (${failure.reason}); trying again in ${delay / 1000}s`);
        await sleep(delay);
        delay = Math.min(delay * 2, 8000);
      }
    }
  }

  private static async attempt(resolved: ResolvedConnection, env: NodeJS.ProcessEnv, warn: (line: string) => void, ahead: boolean, sockets: EarlySockets | undefined): Promise<HostSession> {
    const timeout = resolved.connectTimeoutSeconds;
    const clients: NodeSSH[] = [];
    const first = resolved.jumps[0] ?? resolved.target;
    const early = sockets?.take(first.host, first.port);
    let sock: Duplex | undefined = early;
    try {
      for (const [i, hop] of resolved.jumps.entries()) {
        const client = new NodeSSH();
        clients.push(client);
        const seen: HopSeen = {};
        try {
          await connectHop(client, hopConfig(hop, timeout, env, sock, seen), ahead, seen);
        } catch (e) {
          throw hopFailure(hop, e, seen, timeout);
        }
        if (hop.insecure) warn(`WARNING: host key of jump host ${hop.target} NOT verified (HOST_KEY_INSECURE_ACCEPT_ANY). It presented ${seen.key}; pin it: hostKey: "${seen.key}"`);
        const next = resolved.jumps[i + 1] ?? resolved.target;
        try {
          // What `ssh -J` does: a direct-tcpip channel from the jump host to the next hop.
          sock = await client.forwardOut("127.0.0.1", 0, next.host, next.port);
        } catch (e) {
          const reason = `jump host ${hop.target} cannot reach ${next.host}:${next.port}: ${(e as Error).message}`;
          throw new AttemptFailure(errors.connectFailed(next.target, reason), isRetryableConnectError(e), reason);
        }
      }
      const hop = resolved.target;
      const seen: HopSeen = {};
      const ssh = new NodeSSH();
      try {
        await connectHop(ssh, hopConfig(hop, timeout, env, sock, seen), ahead, seen);
      } catch (e) {
        ssh.dispose();
        throw hopFailure(hop, e, seen, timeout);
      }
      if (hop.insecure) {
        warn(`WARNING: host key of ${hop.target} NOT verified (HOST_KEY_INSECURE_ACCEPT_ANY). It presented ${seen.key}; pin it: hostKey: "${seen.key}"`);
      }
      // Each request is written whole; Nagle would hold the tail of a multi-packet one for the
      // peer's delayed ACK (40 ms measured on loopback for a 41 KB upload).
      ssh.connection?.setNoDelay(true);
      const agentSetting = env[AGENT_ENV];
      const agentPython = agentSetting === "off" ? undefined : agentSetting === undefined || agentSetting === "" ? "python3" : agentSetting;
      const session = new HostSession(ssh, clients, hop.target, seen.key ?? "unknown", resolved.route, agentPython, warn);
      ssh.connection?.on("error", (e: Error) => (session.dropped = e));
      ssh.connection?.on("close", () => (session.dropped ??= new Error("connection closed")));
      for (const client of clients) client.connection?.on("close", () => (session.dropped ??= new Error("jump host connection closed")));
      return session;
    } catch (e) {
      for (const client of clients) client.dispose();
      // Also when no client took it (unreadable credentials): nothing else would close it.
      early?.destroy();
      throw e;
    }
  }

  /** Run shell text (built with lib/shell) and return its output; throws with the output on failure. */
  async run(place: Place, step: string, script: string, options: { stdin?: string; allowFailure?: false; abort?: AbortSignal } = {}): Promise<ExecResult> {
    const result = await this.runRaw(place, step, script, options.stdin, options.abort);
    if (result.code !== 0) throw await this.commandFailed(place, step, script, result);
    return result;
  }

  /** The error of a command that exited non-zero: a full disk named as such. */
  private commandFailed(place: Place, step: string, script: string, result: ExecResult & { code: number }): Promise<WebshareError> {
    return commandFailedError((df) => this.runRaw(place, "check free space", df), place, step, script, result.code, `${result.stdout}\n${result.stderr}`.trim());
  }

  /** The "no space left" error for the filesystem of `target` (or the home), if df says it is full. */
  private fullFilesystem(place: Place, step: string, target: string | undefined, bytes = 0): Promise<WebshareError | undefined> {
    return fullFilesystemError((df) => this.runRaw(place, "check free space", df), place, step, target, bytes);
  }

  /** False once the connection dropped or was disposed: every later call fails with connectionLost. */
  get alive(): boolean {
    return this.dropped === undefined;
  }

  /**
   * Like run, but returns the exit code instead of throwing on a non-zero one. `abort` (the
   * broker's client went away) kills the command's process group through the agent, or on
   * the fallback closes its channel, and fails the call as a dropped connection.
   */
  async runRaw(place: Place, step: string, script: string, stdin?: string, abort?: AbortSignal): Promise<ExecResult & { code: number }> {
    if (this.dropped) throw errors.connectionLost(place, step);
    if (this.agentStarting() && !this.earlyExec) {
      // The agent is not up yet (its channel, its exec and Python's start take 2 round trips
      // and more): rather than wait for it, this command takes an exec channel of its own,
      // one round trip sooner on a slow link. One at a time, so a host is asked for at most
      // one session beside the agent's; one it refuses waits for the agent instead.
      void this.agent();
      this.earlyExec = true;
      try {
        const early = await this.overExecChannel(place, step, script, stdin, abort, true);
        if (early !== undefined) return early;
      } finally {
        this.earlyExec = false;
      }
    }
    const agent = await this.agent();
    if (agent !== undefined) {
      const reply = await this.viaAgent(place, step, () => agent.request({ script, stdin: stdin === undefined ? undefined : Buffer.from(stdin, "utf8") }, abort));
      const stdout = reply.stdout.toString("utf8");
      const stderr = reply.stderr.toString("utf8");
      // The agent could not start /bin/sh at all: read as the shell's own "cannot run" status.
      if ("error" in reply.exit) return { stdout, stderr: `${stderr}webshare command agent: ${reply.exit.error}\n`, code: 127 };
      return { stdout, stderr, code: reply.exit.code };
    }
    return (await this.overExecChannel(place, step, script, stdin, abort, false))!;
  }

  /** Whether the agent is still to come up on this connection (asked for or not), so a command would wait for it. */
  private agentStarting(): boolean {
    return this.agentPython !== undefined && this.agentFailed === undefined && this.agentUp === undefined;
  }

  /**
   * One command on its own exec channel. `abort` closes the channel. With `orAgent`, a channel
   * the host would not open (the command never ran) resolves to undefined; otherwise every
   * failure reads as a dropped connection.
   */
  private async overExecChannel(place: Place, step: string, script: string, stdin: string | undefined, abort: AbortSignal | undefined, orAgent: boolean): Promise<(ExecResult & { code: number }) | undefined> {
    let channel: { close(): void } | undefined;
    let opened = false;
    const onAbort = () => channel?.close();
    abort?.addEventListener("abort", onAbort);
    try {
      const onChannel = (c: { close(): void }) => {
        opened = true;
        if (abort?.aborted) c.close();
        else channel = c;
      };
      // Framed: whatever the login shell's startup files print before the command is cut off.
      return await runFramed(async (framed, input) => {
        const r = await this.ssh.execCommand(framed, { stdin: input, noTrim: true, onChannel });
        // node-ssh resolves with code null when the connection drops mid-command.
        if (r.code === null) throw errors.connectionLost(place, step);
        return { stdout: r.stdout, stderr: r.stderr, code: r.code };
      }, script, stdin);
    } catch {
      if (orAgent && !opened && !this.dropped && !abort?.aborted) return undefined;
      throw errors.connectionLost(place, step);
    } finally {
      abort?.removeEventListener("abort", onAbort);
    }
  }

  /** A request to the agent; its channel or the connection gone reads as a dropped connection. */
  private async viaAgent(place: Place, step: string, request: () => Promise<AgentReply>): Promise<AgentReply> {
    try {
      return await request();
    } catch (e) {
      if (e instanceof AgentLost || this.dropped) throw errors.connectionLost(place, step);
      throw e;
    }
  }

  /**
   * A failed agent write: free space is looked at before the partial files go (that frees
   * what they took), then none stays behind (a later run would take a cut-off wheel for a
   * whole one); the error names a full disk as such.
   */
  private async agentWriteFailed(place: Place, step: string, failure: { error: string; left: readonly string[] }, target: string, bytes: number, what: string): Promise<WebshareError> {
    const full = await this.fullFilesystem(place, step, target, bytes);
    if (failure.left.length > 0) await this.runRaw(place, "remove partial files", `rm -f -- ${failure.left.map(quote).join(" ")}`).catch(() => undefined);
    return full ?? new WebshareError(`${place.unit} on ${place.target}: step "${step}" failed: ${what}: ${failure.error}`);
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
    if (this.dropped) throw errors.connectionLost(place, step);
    const agent = await this.agent();
    if (agent !== undefined) {
      const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
      const reply = await this.viaAgent(place, step, () => agent.request({ files: [{ path: remotePath, mode, atomic: true, content: bytes }] }));
      if ("error" in reply.exit) throw await this.agentWriteFailed(place, step, reply.exit, remotePath, bytes.length, `cannot write ${remotePath}`);
      return;
    }
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
    if (this.dropped) throw errors.connectionLost(place, step);
    const agent = await this.agent();
    if (agent !== undefined) {
      // All files in one request: one round trip for the whole upload. Each is created with
      // its mode (chmod-ed before its content is written), in place, as SFTP did.
      const reply = await this.viaAgent(place, step, () => agent.request({ files: agentFiles(files) }));
      if ("error" in reply.exit) throw await this.uploadFailed(place, step, reply.exit, files);
      return;
    }
    const sftp = await this.sftp(place, step);
    const done = new Set<string>();
    try {
      // Generated files: created with their mode (sftp open with attributes), then written;
      // atomic ones through a temp file (writeFileAtomic cleans up its own).
      for (const f of files) {
        if ("local" in f) continue;
        if (f.atomic === true) await this.writeFileAtomic(place, step, f.remote, f.content, f.mode);
        else await new Promise<void>((resolve, reject) => sftp.writeFile(f.remote, f.content, f.mode === undefined ? {} : { mode: f.mode }, (e) => (e ? reject(e) : resolve())));
        done.add(f.remote);
      }
      // Grouped by mode: each file is chmod-ed to its mode right after it is created, before its content is written.
      const byMode = new Map<number | undefined, { local: string; remote: string }[]>();
      for (const f of files) if ("local" in f) byMode.set(f.mode, [...(byMode.get(f.mode) ?? []), { local: f.local, remote: f.remote }]);
      for (const [mode, group] of byMode) {
        await this.ssh.putFiles(
          group,
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

  /**
   * `before`, the files, then `script` (FilesAndScript): one agent request, one round trip.
   * Without the agent: the same three in turn.
   */
  async runWithFiles(place: Place, step: string, request: FilesAndScript, abort?: AbortSignal): Promise<ExecResult & { code: number }> {
    if (this.dropped) throw errors.connectionLost(place, step);
    const agent = await this.agent();
    if (agent === undefined) {
      if (request.before !== undefined) await this.run(place, step, request.before);
      await this.putFiles(place, step, request.files);
      return this.runRaw(place, step, request.script, request.stdin, abort);
    }
    const stdin = request.stdin === undefined ? undefined : Buffer.from(request.stdin, "utf8");
    const reply = await this.viaAgent(place, step, () => agent.request({ before: request.before, files: agentFiles(request.files), script: request.script, stdin }, abort));
    const stdout = reply.stdout.toString("utf8");
    const stderr = reply.stderr.toString("utf8");
    if ("error" in reply.exit) throw await this.uploadFailed(place, step, reply.exit, request.files);
    if (reply.exit.before === true) throw await this.commandFailed(place, step, request.before!, { stdout, stderr, code: reply.exit.code });
    return { stdout, stderr, code: reply.exit.code };
  }

  /** An agent upload that failed: the error names the first file left partial (its free space looked at). */
  private uploadFailed(place: Place, step: string, failure: { error: string; left: readonly string[] }, files: readonly UploadFile[]): Promise<WebshareError> {
    const at = failure.left[0] ?? files[0]?.remote ?? "";
    return this.agentWriteFailed(place, step, failure, at, 0, `upload error: ${at}`);
  }

  dispose(): void {
    this.dropped ??= new Error("disposed");
    // Its stdin ends: the agent stops what it started (a direct client's exit did the same
    // to a command only once it next wrote output).
    this.agentUp?.close();
    void this.sftpHandle?.then((sftp) => sftp.end(), () => undefined);
    this.ssh.dispose();
    for (const client of this.jumps) client.dispose();
  }
}

/** Files as an agent request carries them: each created with its mode; generated ones atomic when asked. */
function agentFiles(files: readonly UploadFile[]): { path: string; mode?: number; atomic: boolean; content: AgentPayload }[] {
  return files.map((f) => ({ path: f.remote, mode: f.mode, atomic: "content" in f && f.atomic === true, content: "local" in f ? { local: f.local } : Buffer.from(f.content) }));
}
