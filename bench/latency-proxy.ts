/**
 * A slow link on loopback: a TCP proxy in front of sshd that delays every chunk by RTT/2 in
 * each direction and counts what the link costs (this kernel has no netem).
 *
 * - Order is kept: each direction is one queue of (due time, chunk), flushed in order by one
 *   timer; a chunk never overtakes an earlier one, an end of stream (FIN) waits its turn too.
 * - The TCP handshake is modelled: the proxy connects to the target 1.5 RTT after it accepts
 *   (SYN out, SYN-ACK back, then the client's first byte travels), so a connection costs what
 *   it costs on a real link. Bandwidth is not limited: only latency.
 * - Counted, over all connections: `connections` accepted, `bytesUp` (client -> target),
 *   `bytesDown`, and `turns`: how often the direction of the data changes within a connection,
 *   in the order the proxy receives it (client data followed by target data is one turn; the
 *   reply followed by the next request is another). A strictly request/reply conversation
 *   waits RTT/2 per turn. Data that flows both ways at once (an SSH window adjust during an
 *   upload) also counts as a turn, though nobody waits for it.
 *
 * `node dist/bench/latency-proxy.js --to 127.0.0.1:2222 --rtt-ms 100` runs one by hand: it
 * prints its port, and the counts on SIGINT. The bench (bench/deploy.ts) starts one per RTT
 * with `startLatencyProxyProcess()`: the bench's deploys run with spawnSync, which blocks its
 * event loop, so the proxy lives in a process of its own and answers counts over IPC.
 */
import { fork } from "node:child_process";
import * as net from "node:net";

export type Direction = "up" | "down";

export interface LinkCounts {
  /** TCP connections the proxy accepted. */
  readonly connections: number;
  /** Direction changes of the data, summed over connections. */
  readonly turns: number;
  /** Bytes client -> target. */
  readonly bytesUp: number;
  /** Bytes target -> client. */
  readonly bytesDown: number;
}

export const NO_COUNTS: LinkCounts = { connections: 0, turns: 0, bytesUp: 0, bytesDown: 0 };

/** `after` minus `before`, field by field: what one deploy cost. */
export function countsBetween(before: LinkCounts, after: LinkCounts): LinkCounts {
  return { connections: after.connections - before.connections, turns: after.turns - before.turns, bytesUp: after.bytesUp - before.bytesUp, bytesDown: after.bytesDown - before.bytesDown };
}

export interface LatencyProxyOptions {
  readonly targetHost: string;
  readonly targetPort: number;
  /** Round trip time to add; each direction gets half. */
  readonly rttMs: number;
  /**
   * Connect to the target 1.5 RTT after accepting, what a TCP handshake costs before the
   * client's first byte arrives.
   * @default true
   */
  readonly handshake?: boolean;
  /** @default "127.0.0.1" */
  readonly listenHost?: string;
}

/** Queued bytes of one direction above which its source is paused (and resumed below half). */
const HIGH_WATER = 4 * 1024 * 1024;

/** One direction of one connection: a FIFO of chunks, each written when its due time comes. */
class DelayedPipe {
  private readonly queue: { due: number; chunk?: Buffer }[] = [];
  private queuedBytes = 0;
  private timer?: NodeJS.Timeout;
  private to?: net.Socket;
  private blocked = false;

  constructor(
    private readonly from: net.Socket,
    private readonly delayMs: number,
  ) {}

  /** A chunk arrived from the source; `undefined` is its end of stream. */
  push(chunk: Buffer | undefined): void {
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    if (chunk !== undefined) {
      this.queuedBytes += chunk.length;
      if (this.queuedBytes > HIGH_WATER) this.from.pause();
    }
    this.schedule();
  }

  /** The destination is connected: queued chunks may go. */
  open(to: net.Socket): void {
    this.to = to;
    this.flush();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.to === undefined || this.blocked || this.queue.length === 0) return;
    const wait = Math.max(0, Math.ceil(this.queue[0].due - performance.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const to = this.to;
    if (to === undefined || this.blocked || to.destroyed) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) {
      const { chunk } = this.queue.shift()!;
      if (chunk === undefined) {
        to.end();
        return;
      }
      this.queuedBytes -= chunk.length;
      if (!to.write(chunk)) {
        this.blocked = true;
        to.once("drain", () => {
          this.blocked = false;
          this.flush();
        });
        break;
      }
    }
    if (this.queuedBytes < HIGH_WATER / 2 && this.from.isPaused()) this.from.resume();
    this.schedule();
  }
}

export class LatencyProxy {
  private readonly sockets = new Set<net.Socket>();
  private totals = { connections: 0, turns: 0, bytesUp: 0, bytesDown: 0 };

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listen on a free port of `listenHost` and forward every connection to the target. */
  static async start(options: LatencyProxyOptions): Promise<LatencyProxy> {
    if (!Number.isFinite(options.rttMs) || options.rttMs < 0) throw new Error(`rttMs must be a number >= 0, not ${options.rttMs}`);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, options.listenHost ?? "127.0.0.1", () => resolve());
    });
    const proxy = new LatencyProxy(server, (server.address() as net.AddressInfo).port);
    server.on("connection", (client) => proxy.accept(client, options));
    return proxy;
  }

  counts(): LinkCounts {
    return { ...this.totals };
  }

  /** Sockets (either side) not closed yet: a connection whose end is still on its way through the delay. */
  get openSockets(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, options: LatencyProxyOptions): void {
    this.totals.connections++;
    this.sockets.add(client);
    const oneWay = options.rttMs / 2;
    const up = new DelayedPipe(client, oneWay);
    let down: DelayedPipe | undefined;
    let last: Direction | undefined;
    const record = (direction: Direction, bytes: number) => {
      if (last !== undefined && last !== direction) this.totals.turns++;
      last = direction;
      if (direction === "up") this.totals.bytesUp += bytes;
      else this.totals.bytesDown += bytes;
    };
    let target: net.Socket | undefined;
    const teardown = () => {
      up.stop();
      down?.stop();
      client.destroy();
      target?.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      record("up", chunk.length);
      up.push(chunk);
    });
    client.on("end", () => up.push(undefined));
    client.on("error", teardown);
    client.on("close", () => {
      this.sockets.delete(client);
      // The client went away: what it sent is still delivered, then the target side closes.
      if (target === undefined) teardown();
    });
    const connect = () => {
      if (client.destroyed) return;
      target = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true, noDelay: true });
      const t = target;
      this.sockets.add(t);
      down = new DelayedPipe(t, oneWay);
      const pipe = down;
      t.on("connect", () => up.open(t));
      t.on("data", (chunk: Buffer) => {
        record("down", chunk.length);
        pipe.push(chunk);
      });
      t.on("end", () => pipe.push(undefined));
      t.on("error", teardown);
      t.on("close", () => this.sockets.delete(t));
      pipe.open(client);
    };
    if (options.handshake === false || options.rttMs === 0) connect();
    else setTimeout(connect, options.rttMs * 1.5);
  }
}

// ------------------------------------------------------------------- a proxy in a process

/** Messages over the IPC channel of a proxy process. */
type ToProxy = { type: "counts" } | { type: "close" };
type FromProxy = { type: "listening"; port: number } | { type: "counts"; counts: LinkCounts; open: number } | { type: "error"; message: string };

export interface LatencyProxyProcess {
  readonly port: number;
  readonly rttMs: number;
  counts(): Promise<LinkCounts>;
  /**
   * The counts once every connection through the proxy has closed (at most `timeoutMs`): the
   * last packets of a tool that just exited (its close) are still in the delay, and would
   * count in the next deploy's figures.
   */
  settledCounts(timeoutMs?: number): Promise<LinkCounts>;
  stop(): Promise<void>;
}

/** Start this file as a proxy process (see the header): for callers whose event loop blocks. */
export async function startLatencyProxyProcess(options: LatencyProxyOptions): Promise<LatencyProxyProcess> {
  const args = ["--to", `${options.targetHost}:${options.targetPort}`, "--rtt-ms", String(options.rttMs), ...(options.handshake === false ? ["--no-handshake"] : [])];
  const child = fork(__filename, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const next = () =>
    new Promise<FromProxy>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the latency proxy exited (code ${code})`));
      child.once("exit", onExit);
      child.once("message", (message) => {
        child.off("exit", onExit);
        resolve(message as FromProxy);
      });
    });
  const first = await next();
  if (first.type !== "listening") {
    child.kill();
    throw new Error(`the latency proxy did not start: ${first.type === "error" ? first.message : first.type}`);
  }
  let queue = Promise.resolve();
  // One question at a time, so each answer meets its question.
  const ask = (): Promise<{ counts: LinkCounts; open: number }> => {
    const answer = queue.then(async () => {
      const reply = next();
      child.send({ type: "counts" } satisfies ToProxy);
      const message = await reply;
      if (message.type !== "counts") throw new Error(`the latency proxy answered ${message.type}`);
      return { counts: message.counts, open: message.open };
    });
    queue = answer.then(() => undefined, () => undefined);
    return answer;
  };
  return {
    port: first.port,
    rttMs: options.rttMs,
    counts: async () => (await ask()).counts,
    settledCounts: async (timeoutMs = 2000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { counts, open } = await ask();
        if (open === 0 || Date.now() > deadline) return counts;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send({ type: "close" } satisfies ToProxy);
      await exited;
    },
  };
}

function parseArgs(argv: string[]): LatencyProxyOptions {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const to = value("--to");
  const match = to?.match(/^(.+):(\d+)$/);
  const rttMs = Number(value("--rtt-ms"));
  if (match === null || match === undefined || !Number.isFinite(rttMs) || rttMs < 0) {
    throw new Error("usage: latency-proxy --to HOST:PORT --rtt-ms MS [--no-handshake]");
  }
  return { targetHost: match[1], targetPort: Number(match[2]), rttMs, handshake: !argv.includes("--no-handshake") };
}

async function runAsProcess(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const proxy = await LatencyProxy.start(options);
  if (process.send !== undefined) {
    process.on("message", (message: ToProxy) => {
      if (message.type === "counts") process.send!({ type: "counts", counts: proxy.counts(), open: proxy.openSockets } satisfies FromProxy);
      else void proxy.close().then(() => process.exit(0));
    });
    // The bench went away without saying so: go too.
    process.on("disconnect", () => void proxy.close().then(() => process.exit(0)));
    process.send({ type: "listening", port: proxy.port } satisfies FromProxy);
  } else {
    process.stdout.write(`latency proxy on 127.0.0.1:${proxy.port} -> ${options.targetHost}:${options.targetPort}, RTT ${options.rttMs} ms\n`);
    process.on("SIGINT", () => {
      process.stdout.write(`${JSON.stringify(proxy.counts())}\n`);
      void proxy.close().then(() => process.exit(0));
    });
  }
}

if (require.main === module) {
  runAsProcess().catch((e) => {
    const message = (e as Error).message;
    if (process.send !== undefined) process.send({ type: "error", message } satisfies FromProxy);
    process.stderr.write(`latency proxy: ${message}\n`);
    process.exitCode = 1;
  });
}
