/**
 * Who holds a host lock, and whether it is stale. Pure: the lock's owner file in, a decision
 * out. A lock is stale when its holder is provably gone (same machine, pid not running) or
 * has shown no sign of life (the holder touches the owner file every HEARTBEAT_SECONDS) for
 * longer than the configured age. A stale lock is reported, never taken over silently.
 */
import { errors } from "../errors";

export interface LockOwner {
  readonly user: string;
  readonly machine: string;
  readonly pid: number;
  /** Construct path of the unit (or the command) that took it. */
  readonly unit: string;
  readonly startedAt: string;
  readonly token: string;
}

export const HEARTBEAT_SECONDS = 30;
export const DEFAULT_STALE_MINUTES = 30;

export function renderOwner(owner: LockOwner): string {
  return JSON.stringify(owner) + "\n";
}

/** The owner file's content; also the line format of earlier versions. Undefined if unreadable. */
export function parseOwner(text: string): LockOwner | undefined {
  const trimmed = text.trim();
  try {
    const raw = JSON.parse(trimmed) as Record<string, unknown>;
    if (typeof raw.user === "string" && typeof raw.machine === "string" && typeof raw.pid === "number") {
      return { user: raw.user, machine: raw.machine, pid: raw.pid, unit: String(raw.unit ?? "?"), startedAt: String(raw.startedAt ?? "?"), token: String(raw.token ?? "") };
    }
    return undefined;
  } catch {
    const legacy = /^(\S+)@(\S+) pid (\d+) unit (.*) since (\S+) token (\S+)$/.exec(trimmed);
    if (legacy === null) return undefined;
    return { user: legacy[1], machine: legacy[2], pid: Number(legacy[3]), unit: legacy[4], startedAt: legacy[5], token: legacy[6] };
  }
}

/** `alice@laptop pid 4242 (demo/venv, since 2026-11-21T20:00:00.000Z)`, or the raw text. */
export function describeOwner(owner: LockOwner | undefined, raw: string): string {
  if (owner === undefined) return raw.trim() === "" ? "an unknown holder (the lock has no owner file)" : `an unknown holder (${raw.trim().slice(0, 200)})`;
  return `${owner.user}@${owner.machine} pid ${owner.pid} (${owner.unit}, since ${owner.startedAt})`;
}

export type Staleness = { readonly stale: false } | { readonly stale: true; readonly why: string };

export interface Here {
  readonly machine: string;
  readonly isRunning: (pid: number) => boolean;
}

/**
 * `ageSeconds`: since the owner file (or, without one, the lock dir) last changed, by the
 * host's clock; undefined when the host could not say.
 */
export function staleness(owner: LockOwner | undefined, ageSeconds: number | undefined, here: Here, staleAfterSeconds: number): Staleness {
  if (owner !== undefined && owner.machine === here.machine && !here.isRunning(owner.pid)) {
    return { stale: true, why: `process ${owner.pid} is no longer running on ${here.machine}` };
  }
  if (ageSeconds !== undefined && ageSeconds > staleAfterSeconds) {
    return { stale: true, why: `no sign of life for ${minutes(ageSeconds)} (the holder refreshes it every ${HEARTBEAT_SECONDS}s; stale after ${minutes(staleAfterSeconds)})` };
  }
  return { stale: false };
}

const minutes = (seconds: number) => (seconds < 120 ? `${Math.round(seconds)}s` : `${Math.round(seconds / 60)} min`);

/** WEBSHARE_LOCK_STALE_MINUTES (default 30), in seconds. */
export function staleAfterSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env.WEBSHARE_LOCK_STALE_MINUTES;
  const value = raw === undefined || raw === "" ? DEFAULT_STALE_MINUTES : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw errors.invalidSetting("WEBSHARE_LOCK_STALE_MINUTES", raw ?? "", "a positive number of minutes");
  return value * 60;
}

/** Whether a local pid runs (signal 0 probes without signalling; EPERM means it exists). */
export function isRunningLocally(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
