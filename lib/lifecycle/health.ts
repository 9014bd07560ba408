/**
 * Health checks from the deploying machine, after a switch and touch.
 *
 * - `waitForServing` proves the NEW code serves: it polls the entry point's own health path
 *   (`<mount>/.webshare/health`) until the answering process reports the expected release
 *   (app unit) or venv (venv unit). mod_wsgi restarts each daemon process on its first
 *   request after the touch and answers that request from the restarted process, so any
 *   answer naming the new id comes from a process that loaded the new code.
 * - `waitForHealthy` then checks the user's own health URL for the expected status.
 *
 * Both try at least once, and return undefined on success, else the last reason. `onReason`
 * hears why each failed try failed (a heartbeat shows the latest).
 */

/** What the entry point's health path reports about the process that answered. */
export interface Serving {
  readonly release: string;
  readonly venv: string;
  readonly pid: number;
  /** Epoch seconds on the host; null where the host has no /proc. */
  readonly started: number | null;
  readonly loaded: number;
  /** Holds code from before a switch; it is restarting. */
  readonly stale: boolean;
  /** Resident memory (bytes) of the process when it answered; null from an entry point without it (older, or no /proc). */
  readonly rss: number | null;
}

/** The entry point's answer, or undefined when the body is not one (pure). */
export function parseServing(status: number, body: string): Serving | undefined {
  if (status !== 200) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (raw === null || typeof raw !== "object" || typeof r.release !== "string" || typeof r.venv !== "string" || typeof r.pid !== "number" || typeof r.loaded !== "number") return undefined;
  return { release: r.release, venv: r.venv, pid: r.pid, started: typeof r.started === "number" ? r.started : null, loaded: r.loaded, stale: r.stale === true, rss: typeof r.rss === "number" && r.rss >= 0 ? r.rss : null };
}

/** The hoster's per-process memory limit, the default of `healthCheck.memoryWarnBytes`. */
export const DEFAULT_MEMORY_WARN_BYTES = 1024 ** 3;
/** The share of `memoryWarnBytes` above which the verify warns. */
export const MEMORY_WARN_SHARE = 0.8;

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/**
 * What the verify says about the answering process's memory (pure): `detail` for its line
 * ("rss 45.3 MiB"), and a warning when it is above 80% of `warnBytes`. Nothing for an
 * entry point that does not report it.
 */
export function memoryReport(serving: Pick<Serving, "pid" | "rss">, warnBytes: number = DEFAULT_MEMORY_WARN_BYTES): { detail?: string; warning?: string } {
  if (serving.rss === null) return {};
  const detail = `rss ${mib(serving.rss)}`;
  if (serving.rss <= warnBytes * MEMORY_WARN_SHARE) return { detail };
  return {
    detail,
    warning:
      `warning: daemon process ${serving.pid} uses ${mib(serving.rss)} of resident memory, above ${MEMORY_WARN_SHARE * 100}% of ${mib(warnBytes)} ` +
      `(healthCheck.memoryWarnBytes${warnBytes === DEFAULT_MEMORY_WARN_BYTES ? ", the hoster's 1 GiB per-process limit" : ""}); ` +
      `it grows with requests: set daemon.maximumRequests to recycle processes, or fewer threads`,
  };
}

export interface Expected {
  readonly release?: string;
  readonly venv?: string;
}

/** Why `serving` is not what was deployed, or undefined when it is (pure). */
export function servingMismatch(serving: Serving, expected: Expected): string | undefined {
  const wrong: string[] = [];
  if (expected.release !== undefined && serving.release !== expected.release) wrong.push(`release ${serving.release} (expected ${expected.release})`);
  if (expected.venv !== undefined && serving.venv !== expected.venv) wrong.push(`venv ${serving.venv} (expected ${expected.venv})`);
  if (wrong.length > 0) return `pid ${serving.pid} still serves ${wrong.join(" and ")}`;
  return serving.stale ? `pid ${serving.pid} still holds code from before the switch and is restarting` : undefined;
}

export type ServingResult =
  | { readonly ok: true; readonly serving: Serving }
  /** The URL answers, but not with the entry point's report: an entry point from before verification (or a proxy hiding the path). */
  | { readonly ok: false; readonly unverifiable: true; readonly reason: string }
  /** `steady`: the same server error over and over, so the wait ended before the deadline. */
  | { readonly ok: false; readonly unverifiable: false; readonly reason: string; readonly steady?: boolean };

interface Answer {
  readonly status: number;
  readonly body: string;
}

async function get(url: string, deadline: number): Promise<Answer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(Math.min(10_000, Math.max(1000, deadline - Date.now()))), redirect: "manual", headers: { "cache-control": "no-cache" } });
  return { status: response.status, body: await response.text() };
}

/** One line of a body for a message: tags of an HTML error page dropped, whitespace collapsed. */
export function bodyLine(body: string): string {
  return body.replace(/<!DOCTYPE[^>]*>|<head>[\s\S]*?<\/head>|<[^>]+>/gi, " ").replace(/\s+/g, " ").trim().slice(0, 200);
}

const brief = (answer: Answer) => `HTTP ${answer.status}: ${bodyLine(answer.body)}`;
const pause = () => new Promise((resolve) => setTimeout(resolve, 100));

/**
 * A steady server error: the same 5xx answer `STEADY_ANSWERS` times in a row over at least
 * `STEADY_SECONDS` (a new release that fails at load answers every request alike, while a
 * restart in progress changes within a second). The verify gives up then instead of waiting
 * out the whole timeout.
 */
export const STEADY_ANSWERS = 10;
export const STEADY_SECONDS = 3;

/**
 * Poll the entry point's health path until it reports `expected`, or the deadline passes.
 * An answer below 500 that is not the entry point's report, several times in a row, is
 * reported as unverifiable (the caller decides whether that is a failure). A steady server
 * error ends the wait early.
 */
export async function waitForServing(url: string, expected: Expected, deadline: number, onReason?: (reason: string) => void): Promise<ServingResult> {
  let reason = "no answer";
  let foreign = 0;
  let steady: { answer: string; count: number; since: number } | undefined;
  for (;;) {
    let error: string | undefined;
    try {
      const answer = await get(url, deadline);
      const serving = parseServing(answer.status, answer.body);
      if (serving !== undefined) {
        foreign = 0;
        const mismatch = servingMismatch(serving, expected);
        if (mismatch === undefined) return { ok: true, serving };
        reason = mismatch;
      } else if (answer.status < 500) {
        reason = `${url} does not answer with the entry point's report (${brief(answer)})`;
        if (++foreign >= 3) return { ok: false, unverifiable: true, reason };
      } else {
        foreign = 0;
        reason = brief(answer);
        error = `${answer.status}\n${answer.body}`;
      }
    } catch (e) {
      reason = (e as Error).message;
    }
    onReason?.(reason);
    steady = error === undefined ? undefined : steady?.answer === error ? { ...steady, count: steady.count + 1 } : { answer: error, count: 1, since: Date.now() };
    if (steady !== undefined && steady.count >= STEADY_ANSWERS && Date.now() - steady.since >= STEADY_SECONDS * 1000) {
      const seconds = ((Date.now() - steady.since) / 1000).toFixed(1);
      return { ok: false, unverifiable: false, steady: true, reason: `${reason} (the same answer ${steady.count} times in a row over ${seconds}s: a steady error, not a restart)` };
    }
    if (Date.now() >= deadline) return { ok: false, unverifiable: false, reason };
    await pause();
  }
}

/** Poll the URL until it answers with the expected status, for up to `timeoutSeconds`. */
export function waitForHealthy(url: string, expectStatus: number, timeoutSeconds: number): Promise<string | undefined> {
  return healthyBy(url, expectStatus, Date.now() + timeoutSeconds * 1000);
}

/** Poll the URL until it answers with the expected status or the deadline passes. */
export async function healthyBy(url: string, expectStatus: number, deadline: number, onReason?: (reason: string) => void): Promise<string | undefined> {
  let reason = "no answer";
  for (;;) {
    try {
      const answer = await get(url, deadline);
      if (answer.status === expectStatus) return undefined;
      reason = `HTTP ${answer.status} (expected ${expectStatus}): ${bodyLine(answer.body)}`;
    } catch (e) {
      reason = (e as Error).message;
    }
    onReason?.(reason);
    if (Date.now() >= deadline) return reason;
    await pause();
  }
}
