import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { HostSession } from "./session";
import { SessionPool } from "./broker-pool";
import { BROKER_ENV } from "./broker-protocol";
import { serveClient } from "./broker-serve";
import { resolveConnection } from "./resolve";
import type { ConnectionSpec } from "../spec";

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

export async function startBroker(options: { env: NodeJS.ProcessEnv; warn?: (line: string) => void }): Promise<Broker> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(line + "\n"));
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "webshare-broker-"));
  await fs.promises.chmod(dir, 0o700); // mkdtemp makes it 0700 already; say so explicitly
  const socketPath = path.join(dir, "ssh.sock");
  const pool = new SessionPool<HostSession>((connection, connectWarn) => HostSession.openResolved(connection, options.env, connectWarn));
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    serveClient(socket, pool, warn);
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
    for (const socket of clients) socket.destroy();
    await stopped;
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
