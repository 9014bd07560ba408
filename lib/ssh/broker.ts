import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { HostSession } from "./session";
import { SessionPool } from "./broker-pool";
import { BROKER_ENV } from "./broker-protocol";
import type { EarlySockets } from "./early-sockets";
import { serveClient } from "./broker-serve";
import { resolveConnection } from "./resolve";
import type { ConnectionSpec } from "../spec";
import { LineDecoder } from "./line-decoder";
import { encodeLine, isProvisionLine } from "./provision-wire";

/**
 * The SSH connection broker: one connection per host for a whole `webshare deploy`, however
 * many provisioner processes the apply starts. It listens on a unix socket in a fresh
 * directory only this user can enter (mode 0700), and the provisioners find it through
 * `env` (tofu passes its environment down to local-exec). Keys and passphrases are read
 * here, from `options.env`, never sent over the socket.
 */
export interface Broker {
  /** Variables to add to the environment of the processes that should use the broker. */
  readonly env: Record<string, string>;
  /** SSH connections opened so far (one per host, plus reopens after a drop). */
  connectionsOpened(): number;
  /**
   * Start connecting to these hosts (and their command agents) now, for the units that will
   * ask for them. Never fails: a connection that cannot be made here is tried again, and
   * reported, by the unit that needs it.
   */
  preconnect(connections: readonly ConnectionSpec[]): void;
  /** Disconnect the clients, close every SSH connection, remove the socket directory. */
  close(): Promise<void>;
}

/** Runs whole units for thin provisioner clients (lib/host/provision-serve.ts; injected: this layer knows only SSH). */
export interface ProvisionHandler {
  /** Take over a client whose first line asks for "provision" (provision-wire.ts); `lines` are its lines so far. */
  serve(socket: net.Socket, lines: string[], decoder: LineDecoder): void;
  /** Wait until every unit it runs has ended, at most `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

export interface BrokerOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly warn?: (line: string) => void;
  /** Without it a "provision" request is declined: the client runs its unit itself. */
  readonly provisions?: ProvisionHandler;
  /** TCP connections opened ahead of the broker; a connection's first attempt takes its own. */
  readonly earlySockets?: EarlySockets;
}

/** How long `close` waits for units still cleaning up (their clients were interrupted or killed). */
const DRAIN_MS = 30_000;

export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(line + "\n"));
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "webshare-broker-"));
  await fs.promises.chmod(dir, 0o700); // mkdtemp makes it 0700 already; say so explicitly
  const socketPath = path.join(dir, "ssh.sock");
  const pool = new SessionPool<HostSession>((connection, connectWarn) => HostSession.openResolved(connection, options.env, connectWarn, { sockets: options.earlySockets }));
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => undefined); // a client that died; "close" follows
    // The first line says which conversation this is: a session's requests, or a whole unit.
    const decoder = new LineDecoder();
    const first = (chunk: Buffer) => {
      const lines = decoder.push(chunk);
      if (lines.length === 0) return;
      socket.off("data", first);
      if (isProvisionLine(lines[0]!)) (options.provisions ?? declineProvisions).serve(socket, lines, decoder);
      else serveClient(socket, pool, warn, { lines, decoder });
    };
    socket.on("data", first);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  } catch (e) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw e;
  }
  server.on("error", (e) => warn(`webshare: the SSH connection broker's socket failed: ${e.message}`));

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of clients) socket.destroy(); // units still running are interrupted: they clean up
    await stopped;
    await options.provisions?.drain(DRAIN_MS);
    await pool.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  };
  return {
    env: { [BROKER_ENV]: socketPath },
    connectionsOpened: () => pool.opened,
    preconnect: (connections) => {
      for (const connection of connections) {
        let resolved;
        try {
          // Resolved as the provisioners resolve it (same env), so they find this connection in the pool.
          resolved = resolveConnection(connection, { env: options.env });
        } catch {
          continue;
        }
        pool.acquire(resolved).then((shared) => shared.session.warm(), () => undefined).catch(() => undefined);
      }
    },
    close: () => (closing ??= close()),
  };
}

/** A broker without a provision handler: the client runs its unit itself. */
const declineProvisions: ProvisionHandler = {
  serve(socket) {
    socket.end(encodeLine({ t: "declined", reason: "this broker runs no units" }));
  },
  drain: () => Promise.resolve(),
};
