import * as fs from "node:fs";
import { AGENT_HELLO, AgentExit, AgentRequestHead, afterMarker, DATA_CHUNK, encodeFrame, encodeRequest, FrameDecoder, parseExit, type Frame } from "./agent-protocol";

/**
 * The deploying machine's end of a command agent (lib/ssh/agent-program.ts): one long-lived
 * channel to the host over which requests run concurrently, each one round trip (its
 * request and data frames go out back to back; its output and exit come back). Knows
 * nothing of SSH: the channel is injected (an exec channel, or a local python3 in tests).
 */
export interface AgentChannel {
  /** Bytes to the agent's stdin; false = wait for "drain" before the next write. */
  write(chunk: Buffer): boolean;
  onceDrain(listener: () => void): void;
  /** The agent's stdout. */
  onData(listener: (chunk: Buffer) => void): void;
  /** The agent's stderr (kept for the message when it does not start). */
  onStderr(listener: (chunk: Buffer) => void): void;
  /** The channel is gone (the agent exited, the connection dropped, or `close` was called). */
  onClose(listener: () => void): void;
  /** End the agent's stdin and close the channel: the agent stops what it started. */
  close(): void;
}

/** What a request carries after its head: stdin bytes, then each file's content, in order. */
export type AgentPayload = Buffer | { readonly local: string };

export interface AgentReply {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exit: AgentExit;
}

/** The channel closed (or the agent broke) before the request ended. */
export class AgentLost extends Error {}

interface Pending {
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  resolve(reply: AgentReply): void;
  reject(e: Error): void;
}

export class CommandAgent {
  private readonly pending = new Map<number, Pending>();
  private readonly closeListeners: (() => void)[] = [];
  private readonly drainWaiters = new Set<() => void>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly channel: AgentChannel) {}

  /**
   * Wait for the agent's hello on `channel`: after the `marker` line when the agent was
   * started through a login shell (whatever its startup files print comes first). Rejects
   * when the channel closes first (no python3, a shell that failed) or after `timeoutMs`.
   */
  static start(channel: AgentChannel, marker: string | undefined, timeoutMs: number): Promise<CommandAgent> {
    const agent = new CommandAgent(channel);
    return new Promise((resolve, reject) => {
      let before: Buffer | undefined = marker === undefined ? undefined : Buffer.alloc(0);
      let stderr = "";
      let ready = false;
      const decoder = new FrameDecoder();
      const fail = (why: string) => {
        if (ready) return;
        ready = true;
        clearTimeout(timer);
        channel.close();
        reject(new AgentLost(why));
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000}s`), timeoutMs);
      channel.onStderr((chunk) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
      channel.onClose(() => {
        // What the shell said after the marker (the login's own noise and the marker cut off).
        const said = (marker === undefined ? undefined : afterMarker(Buffer.from(stderr, "utf8"), marker)?.toString("utf8")) ?? stderr;
        if (!ready) fail(`the agent did not start${said.trim() === "" ? "" : `: ${said.trim()}`}`);
        agent.lose();
      });
      channel.onData((chunk) => {
        let data = chunk;
        if (before !== undefined) {
          before = Buffer.concat([before, chunk]);
          const rest = afterMarker(before, marker as string);
          if (rest === undefined) {
            if (before.length > 1 << 20) fail("no start marker in the first MiB of output");
            return;
          }
          before = undefined;
          data = rest;
        }
        let frames: Frame[];
        try {
          frames = decoder.push(data);
        } catch (e) {
          fail((e as Error).message);
          return channel.close();
        }
        for (const frame of frames) {
          if (!ready) {
            if (frame.kind !== "H" || frame.body.toString("utf8") !== AGENT_HELLO) return fail(`unexpected first frame from the agent`);
            ready = true;
            clearTimeout(timer);
            resolve(agent);
          } else agent.receive(frame);
        }
      });
    });
  }

  /** False once the channel closed: later requests reject with AgentLost. */
  get alive(): boolean {
    return !this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /**
   * Run one request: its before script (if any), then write its files, then run its
   * script (if any) with `stdin`. The payload goes out right behind the head, so the whole
   * request costs one round trip.
   * `abort` stops it on the host (its process group is killed) and rejects at once.
   */
  async request(head: { before?: string; script?: string; stdin?: Buffer; files?: readonly { path: string; mode?: number; atomic: boolean; content: AgentPayload }[] }, abort?: AbortSignal): Promise<AgentReply> {
    if (this.closed) throw new AgentLost("the command agent is gone");
    const files = head.files ?? [];
    const sizes = await Promise.all(files.map(async (f) => (Buffer.isBuffer(f.content) ? f.content.length : (await fs.promises.stat(f.content.local)).size)));
    const stdin = head.stdin ?? Buffer.alloc(0);
    const wire: AgentRequestHead = {
      ...(head.before === undefined ? {} : { before: head.before }),
      ...(head.script === undefined ? {} : { script: head.script }),
      stdin: stdin.length,
      files: files.map((f, i) => ({ path: f.path, ...(f.mode === undefined ? {} : { mode: f.mode }), atomic: f.atomic, size: sizes[i] as number })),
    };
    if (this.closed) throw new AgentLost("the command agent is gone");
    if (abort?.aborted) throw new AgentLost("aborted");
    const id = this.nextId++;
    const reply = new Promise<AgentReply>((resolve, reject) => this.pending.set(id, { stdout: [], stderr: [], resolve, reject }));
    reply.catch(() => undefined); // settled below or by the caller's await
    const onAbort = () => {
      const pending = this.pending.get(id);
      if (pending === undefined) return;
      this.pending.delete(id);
      if (!this.closed) this.channel.write(encodeFrame("K", id));
      pending.reject(new AgentLost("aborted"));
    };
    abort?.addEventListener("abort", onAbort);
    try {
      const contents = async function* () {
        for (const [i, f] of files.entries()) {
          const content = Buffer.isBuffer(f.content) ? f.content : await fs.promises.readFile(f.content.local);
          if (content.length !== sizes[i]) throw new Error(`${Buffer.isBuffer(f.content) ? f.path : f.content.local} changed while it was uploaded`);
          yield content;
        }
      };
      const total = stdin.length + sizes.reduce((a, b) => a + b, 0);
      if (total <= DATA_CHUNK) {
        // Small requests (every command, most writes and source uploads) are one frame.
        const parts = [stdin];
        for await (const content of contents()) parts.push(content);
        await this.send(encodeRequest(id, wire, Buffer.concat(parts)));
      } else {
        await this.send(encodeRequest(id, wire));
        await this.sendData(id, stdin);
        for await (const content of contents()) {
          if (!this.pending.has(id)) break; // aborted or lost meanwhile
          await this.sendData(id, content);
        }
      }
    } catch (e) {
      abort?.removeEventListener("abort", onAbort);
      onAbort(); // a local file that could not be read: the agent drops what it got
      throw e;
    }
    try {
      return await reply;
    } finally {
      abort?.removeEventListener("abort", onAbort);
    }
  }

  /** End the agent's stdin: it stops what it started and exits. */
  close(): void {
    this.channel.close();
    this.lose();
  }

  private async sendData(id: number, data: Buffer): Promise<void> {
    for (let at = 0; at < data.length && this.pending.has(id); at += DATA_CHUNK) {
      await this.send(encodeFrame("D", id, data.subarray(at, at + DATA_CHUNK)));
    }
  }

  private send(frame: Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.channel.write(frame)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.drainWaiters.delete(done);
        resolve();
      };
      this.drainWaiters.add(done);
      this.channel.onceDrain(done);
    });
  }

  private receive(frame: Frame): void {
    const pending = this.pending.get(frame.id);
    if (pending === undefined) return; // aborted: its remaining output is dropped
    if (frame.kind === "O") pending.stdout.push(frame.body);
    else if (frame.kind === "E") pending.stderr.push(frame.body);
    else if (frame.kind === "X") {
      this.pending.delete(frame.id);
      try {
        pending.resolve({ stdout: Buffer.concat(pending.stdout), stderr: Buffer.concat(pending.stderr), exit: parseExit(frame.body) });
      } catch (e) {
        pending.reject(new AgentLost((e as Error).message));
      }
    }
  }

  private lose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new AgentLost("the channel to the command agent closed"));
    this.pending.clear();
    for (const waiter of [...this.drainWaiters]) waiter();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
