import * as net from "node:net";
import * as path from "node:path";
import type { ConnectionSpec } from "../spec";
import { errors, Place, WebshareError } from "../errors";
import { HostSession } from "./session";
import { resolveConnection, type ResolvedConnection } from "./resolve";
import type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "./remote-session";
import { BROKER_ENV, BrokerReply, encodeMessage, fromWireError, LineDecoder, OpenedSession, parseReply, RequestBody, RequestFiles, toWireContent } from "./broker-protocol";

/**
 * A provisioner's session: through the broker's shared connection when the environment
 * names one (a `webshare deploy` run), else a direct connection. A broker that is gone only
 * costs the shared connection, never the run: the session connects directly instead.
 */
export async function openSession(connection: ConnectionSpec, env: NodeJS.ProcessEnv, warn: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<RemoteSession> {
  // Resolved here, on the deploying machine, once: the broker gets the concrete hops.
  const resolved = resolveConnection(connection, { env });
  const socketPath = env[BROKER_ENV];
  if (socketPath !== undefined && socketPath !== "") {
    const brokered = await BrokeredSession.open(socketPath, resolved);
    if (brokered instanceof BrokeredSession) {
      brokered.warnings.forEach((line) => warn(line));
      return brokered;
    }
    warn(`webshare: the SSH connection broker (${socketPath}) is not reachable (${brokered.unreachable}); connecting to ${resolved.route} directly`);
  }
  return HostSession.openResolved(resolved, env, warn);
}

/** True for a session that uses the broker's shared connection. */
export function isShared(session: RemoteSession): boolean {
  return session instanceof BrokeredSession;
}

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
  /** The error for this request if the socket closes first. */
  lost(): Error;
}

/** A session whose calls the broker runs on its shared connection; `dispose` closes only this client's socket. */
export class BrokeredSession implements RemoteSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private opened: OpenedSession = { target: "", hostKey: "", warnings: [] };

  private constructor(private readonly socket: net.Socket) {
    const decoder = new LineDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) this.settle(line);
    });
    socket.on("error", () => undefined); // "close" follows and fails what is in flight
    socket.on("close", () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(p.lost());
      this.pending.clear();
    });
  }

  /** Connect and bind to the shared connection; `unreachable` says why the broker could not be used. */
  static async open(socketPath: string, connection: ResolvedConnection): Promise<BrokeredSession | { unreachable: string }> {
    let socket: net.Socket;
    try {
      socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(socketPath, () => resolve(s));
        s.once("error", reject);
      });
    } catch (e) {
      return { unreachable: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
    }
    const session = new BrokeredSession(socket);
    // Key paths are absolute already (resolveConnection), so the broker's cwd does not matter.
    try {
      const open = { op: "open" as const, connection };
      session.opened = (await session.request(open, () => new Error("it closed the socket before answering"))) as OpenedSession;
      return session;
    } catch (e) {
      session.dispose();
      // Host trouble (key mismatch, refused, credentials) is always a WebshareError: the user's
      // to fix. Anything else is the broker's own trouble (closing, confused): go direct.
      if (e instanceof WebshareError) throw e;
      return { unreachable: e instanceof Error ? e.message : String(e) };
    }
  }

  get target(): string {
    return this.opened.target;
  }

  get hostKey(): string {
    return this.opened.hostKey;
  }

  get route(): string {
    return this.opened.route ?? this.opened.target;
  }

  /** Lines the broker's connect printed (the host-key opt-out warning); every client prints them. */
  get warnings(): readonly string[] {
    return this.opened.warnings;
  }

  async run(place: Place, step: string, script: string, options: { stdin?: string; allowFailure?: false } = {}): Promise<ExecResult> {
    return (await this.call({ op: "run", place, step, script, stdin: options.stdin })) as ExecResult;
  }

  async runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    return (await this.call({ op: "runRaw", place, step, script, stdin })) as ExecResult & { code: number };
  }

  async writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode?: number): Promise<void> {
    await this.call({ op: "writeFileAtomic", place, step, remotePath, content: toWireContent(content), mode });
  }

  async putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.call({ op: "putFiles", place, step, files: toWireFiles(files) });
  }

  async runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    return (await this.call({ op: "runWithFiles", place, step, before: request.before, files: toWireFiles(request.files), script: request.script, stdin: request.stdin })) as ExecResult & { code: number };
  }

  dispose(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** A call after open: if the broker goes away meanwhile, it failed like a dropped connection. */
  private call(body: RequestBody & { place: Place; step: string }): Promise<unknown> {
    return this.request(body, () => errors.connectionLost(body.place, body.step));
  }

  private request(body: RequestBody, lost: () => Error): Promise<unknown> {
    if (this.closed) return Promise.reject(lost());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, lost });
      this.socket.write(encodeMessage({ ...body, id }));
    });
  }

  private settle(line: string): void {
    let reply: BrokerReply;
    try {
      reply = parseReply(line);
    } catch {
      this.socket.destroy(); // a broker that speaks nonsense counts as gone
      return;
    }
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(fromWireError(reply.error));
  }
}

/** Files as they cross the socket: local paths made absolute (the broker's cwd is not ours). */
function toWireFiles(files: readonly UploadFile[]): RequestFiles {
  return files.map((f) => ("local" in f ? { local: path.resolve(f.local), remote: f.remote, mode: f.mode } : { content: toWireContent(f.content), remote: f.remote, mode: f.mode, ...(f.atomic === true && { atomic: true }) }));
}
