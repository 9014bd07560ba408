import type { ResolvedConnection } from "./resolve";
import { stableStringify } from "../hash";
import { Limiter } from "./limit";

/**
 * The broker's connections: one per distinct connection spec, opened on first use, shared
 * by every client, reopened for new clients once it dropped. Clients already bound to a
 * dropped one keep it (their calls fail as a direct session's would), so a unit never
 * continues half-way on a new connection. Knows nothing of sockets; `open` is injected.
 */
export interface Poolable {
  readonly alive: boolean;
  dispose(): void;
}

export interface Shared<S> {
  readonly session: S;
  /** Lines the connect printed (the host-key opt-out warning), for every client to print. */
  readonly warnings: readonly string[];
  /** Exec channels in flight on this connection. */
  readonly channels: Limiter;
}

/** Exec channels per connection: below sshd's default MaxSessions (10), one left for SFTP. */
const CHANNELS_PER_CONNECTION = 8;

interface Entry<S> {
  readonly ready: Promise<Shared<S>>;
  shared?: Shared<S>;
}

export class SessionPool<S extends Poolable> {
  private readonly entries = new Map<string, Entry<S>>();
  private openedCount = 0;
  private closed = false;

  constructor(private readonly open: (connection: ResolvedConnection, warn: (line: string) => void) => Promise<S>) {}

  /** Connections opened successfully so far. */
  get opened(): number {
    return this.openedCount;
  }

  /** Keyed by the whole resolved connection: address, user, key, pins and the jump chain. */
  acquire(connection: ResolvedConnection): Promise<Shared<S>> {
    if (this.closed) return Promise.reject(new Error("the SSH connection broker is closing"));
    const key = stableStringify(connection);
    const entry = this.entries.get(key);
    if (entry !== undefined && (entry.shared === undefined || entry.shared.session.alive)) return entry.ready;
    entry?.shared?.session.dispose();
    return this.start(key, connection).ready;
  }

  private start(key: string, connection: ResolvedConnection): Entry<S> {
    const warnings: string[] = [];
    const ready = this.open(connection, (line) => warnings.push(line)).then(
      (session) => {
        this.openedCount++;
        entry.shared = { session, warnings, channels: new Limiter(CHANNELS_PER_CONNECTION) };
        return entry.shared;
      },
      (e: unknown) => {
        // A failed connect is not kept: the next client tries again, as its own process would.
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw e;
      },
    );
    const entry: Entry<S> = { ready };
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * Dispose every connection. One still connecting (a pre-connect to a host that is down,
   * retrying) is disposed when its connect ends; nobody waits for it, so a deploy that ends
   * early (a failed plan, Ctrl+C) never waits out a connect nothing needs.
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) {
      if (entry.shared !== undefined) entry.shared.session.dispose();
      else void entry.ready.then((shared) => shared.session.dispose(), () => undefined);
    }
  }
}
