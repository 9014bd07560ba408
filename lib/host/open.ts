import type { ConnectionSpec } from "../spec";
import { HostSession } from "../ssh/session";
import { isShared, openSession } from "../ssh/broker-client";
import type { RemoteSession } from "../ssh/remote-session";
import type { Writer } from "../progress";

/**
 * The one place a command or a step gets a session to a host: directly (lib/ssh/session.ts)
 * or through the connection broker of a `webshare deploy` run (lib/ssh/broker-client.ts).
 * Every secret the connect needs (key passphrases, SSH_AUTH_SOCK, the broker's socket) is
 * read from `env`, the environment the CLI entry point was given, never from process.env.
 */
export interface OpenHostOptions {
  /** The command's environment. */
  readonly env: NodeJS.ProcessEnv;
  /** Connection notices, one line each: retries, the host-key opt-out warning, an unreachable broker. */
  readonly warn: Writer;
  /**
   * Use the shared connection of the broker that `env` names (a provisioner under `webshare
   * deploy`); without one, or when it is gone, connect directly.
   * @default false
   */
  readonly shared?: boolean;
  /**
   * One attempt, with a connect timeout of at most 10 s: for work done while the run is being
   * stopped (releasing the host lock after Ctrl+C).
   * @default false
   */
  readonly quick?: boolean;
}

export function openHostSession(connection: ConnectionSpec, options: OpenHostOptions): Promise<RemoteSession> {
  const spec = options.quick ? { ...connection, connectTimeoutSeconds: Math.min(connection.connectTimeoutSeconds, 10), connectAttempts: 1 } : connection;
  return options.shared ? openSession(spec, options.env, options.warn) : HostSession.open(spec, options.env, options.warn);
}

/** True for a session on the broker's shared connection. */
export { isShared };
