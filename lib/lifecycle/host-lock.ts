import * as os from "node:os";
import { randomBytes } from "node:crypto";
import { allOf, commandLine, quote } from "../shell";
import { errors, WebshareError } from "../errors";
import { abs, StepContext } from "./context";
import type { HostSpec } from "../spec";
import type { Heartbeat } from "../progress";
import { HostSession } from "../ssh/session";
import { describeOwner, HEARTBEAT_SECONDS, isRunningLocally, LockOwner, parseOwner, renderOwner, staleAfterSeconds, staleness } from "./lock-owner";

/**
 * One deploy at a time per host home: a lock directory made with `mkdir` (atomic on POSIX)
 * holding an owner file (who, where, pid, since). Units of one `cdktf deploy` and of
 * parallel deploys wait for a live holder, up to a limit, then fail naming it. A stale lock
 * (holder gone, or silent for too long) is reported at once with the command that removes
 * it; it is never taken over silently. While held, the owner file is touched every
 * HEARTBEAT_SECONDS, so silence means the holder is gone.
 */
export interface HeldLock {
  /** `before`: remote shell snippets to run first, best-effort (an interrupted run's cleanup). */
  release(before?: readonly string[]): Promise<void>;
}

export function lockDir(host: HostSpec): string {
  return abs(host, `${host.stateDir}/lock`);
}

/** The lock as seen on the host: absent, or held with its owner file and its age by the host's clock. */
export type LockState = { readonly held: false } | { readonly held: true; readonly raw: string; readonly owner?: LockOwner; readonly ageSeconds?: number };

const HELD = "webshare-lock-held";

/** Shell text printing HELD, the owner file's age in seconds (or ?), then the owner file. */
function inspectScript(dir: string): string {
  const owner = `${dir}/owner`;
  return (
    `printf '%s\\n' ${HELD}; ` +
    `{ m=$(stat -c %Y ${quote(owner)} 2>/dev/null || stat -c %Y ${quote(dir)} 2>/dev/null) && echo $(( $(date +%s) - m )); } || echo '?'; ` +
    `cat ${quote(owner)} 2>/dev/null || true`
  );
}

export function parseLockState(stdout: string): LockState {
  const [marker, age, ...rest] = stdout.split("\n");
  if (marker !== HELD) return { held: false };
  const raw = rest.join("\n");
  const ageSeconds = /^\d+$/.test(age ?? "") ? Number(age) : undefined;
  return { held: true, raw, owner: parseOwner(raw), ageSeconds };
}

/** Read the lock without touching it. */
export async function readHostLock(ctx: StepContext, host: HostSpec): Promise<LockState> {
  const dir = lockDir(host);
  const { stdout } = await ctx.session.run(ctx.place, "read host lock", `if [ -d ${quote(dir)} ]; then ${inspectScript(dir)}; fi`);
  return parseLockState(stdout);
}

/** The command that removes the lock of this host, for messages. */
export function unlockHint(host: HostSpec): string {
  return `webshare host-lock --host ${quote(host.name)} --force`;
}

/**
 * A host lock that may be taken: `release` works before, during and after `acquire` (it
 * removes the lock dir only if the owner file holds this handle's token), so a caller can
 * register the cleanup for an interrupt BEFORE the lock is taken: an interrupt while
 * `acquire` waits, or right after the host made the dir, never strands it.
 */
export interface HostLockHandle extends HeldLock {
  /** Take the lock, waiting for a live holder up to `waitSeconds`; throws when it cannot. */
  acquire(waitSeconds?: number): Promise<void>;
}

export async function acquireHostLock(ctx: StepContext, host: HostSpec, waitSeconds = 600): Promise<HeldLock> {
  const lock = hostLock(ctx, host);
  try {
    await lock.acquire(waitSeconds);
  } catch (e) {
    // The host may have made the dir before the failure (say, output we could not read).
    await lock.release().catch(() => undefined);
    throw e;
  }
  return lock;
}

/** The longest one remote wait may block on the host before it reports back (and the holder is looked at again). */
export const WAIT_SLICE_SECONDS = 20;
/** At most this many waiters of one host block on it at once; the rest back off on the deploying machine (see lockScript). */
export const BLOCKING_WAITERS = 2;
/** The longest pause between two remote tries of a waiter that may not block. */
const LOCAL_BACKOFF_MAX_MS = 5000;

/** What one try to take the lock found: the first line of `lockScript`'s output. */
export type LockVerdict = "acquired" | "cancelled" | "waited" | "tried";

export interface LockScriptOptions {
  /** Absolute state dir and lock dir. */
  readonly stateDir: string;
  readonly dir: string;
  /** This handle's token: names its cancel and wait marks. */
  readonly token: string;
  /** The owner file's content should it take the lock. */
  readonly owner: string;
  /** How long it may wait on the host for the lock (0: one try). */
  readonly sliceSeconds: number;
}

/** The mark `release` leaves for a wait that may still run on the host: the wait sees it, gives up, and drops the lock if it just took it. */
export function cancelMark(stateDir: string, token: string): string {
  return `${stateDir}/lock.cancel-${token}`;
}

/**
 * Shell text: one try to take the lock, or a wait for it ON THE HOST of up to
 * `sliceSeconds`: `mkdir` again and again with a sleep that doubles from 0.1 s to 1 s, so
 * the lock changes hands within a second of its release at the cost of one remote command
 * per slice instead of one per try. A slice ends early when the holder changes (the
 * deploying machine then looks at the new one: stale?). Only BLOCKING_WAITERS waiters of a
 * host block at once (each marks itself with `lock.wait-<token>` in the state dir): each
 * holds an SSH channel while it waits, and the units of a `webshare deploy` share one
 * connection whose channels are few (lib/ssh/broker-pool.ts), so the holder must keep some.
 * The others only try, and back off on the deploying machine. A wait whose deploy was
 * interrupted (Ctrl+C: the channel is closed, but a remote shell without a tty keeps
 * running) sees the cancel mark `release` leaves and stops, dropping the lock if it took
 * it after the mark was made; so no interrupted wait takes the lock later. Marks older than
 * 2 minutes (a killed wait's) are removed. Prints a LockVerdict line, then for
 * `waited`/`tried` the lock's state (inspectScript).
 */
export function lockScript(o: LockScriptOptions): string {
  const cancel = quote(cancelMark(o.stateDir, o.token));
  const mark = quote(`${o.stateDir}/lock.wait-${o.token}`);
  const owner = quote(`${o.dir}/owner`);
  const slice = Math.max(0, Math.floor(o.sliceSeconds));
  return [
    `${allOf([["mkdir", "-p", o.stateDir], ["chmod", "0700", o.stateDir]])} &&`,
    `{ ${commandLine(["find", o.stateDir, "-maxdepth", "1", "(", "-name", "lock.cancel-*", "-o", "-name", "lock.wait-*", ")", "-mmin", "+2", "-exec", "rm", "-f", "{}", "+"])} 2>/dev/null; true; } &&`,
    `{ r=tried; end=0;`,
    // Block only while fewer than BLOCKING_WAITERS others do.
    slice > 0 ? `set -- ${quote(o.stateDir)}/lock.wait-*; if [ ! -e "$1" ] || [ $# -lt ${BLOCKING_WAITERS} ]; then touch ${mark}; r=waited; end=$(( $(date +%s) + ${slice} )); fi;` : "",
    `o0=$(cat ${owner} 2>/dev/null); t=1;`,
    `while :; do`,
    `  if [ -e ${cancel} ]; then r=cancelled; break; fi;`,
    `  if mkdir ${quote(o.dir)} 2>/dev/null; then printf '%s' ${quote(o.owner)} > ${owner}; if [ -e ${cancel} ]; then ${commandLine(["rm", "-rf", o.dir])}; r=cancelled; else r=acquired; fi; break; fi;`,
    `  [ $(date +%s) -lt $end ] || break;`,
    `  o=$(cat ${owner} 2>/dev/null); if [ -n "$o" ] && [ "$o" != "$o0" ]; then break; fi;`,
    `  sleep $((t / 10)).$((t % 10)); t=$((t * 2)); [ $t -le 10 ] || t=10;`,
    `done;`,
    `rm -f ${mark}; if [ $r = cancelled ]; then rm -f ${cancel}; fi;`,
    `echo $r; case $r in waited|tried) ${inspectScript(o.dir)};; esac; }`,
  ].filter((l) => l !== "").join(" ");
}

export function hostLock(ctx: StepContext, host: HostSpec): HostLockHandle {
  const env = ctx.env;
  const dir = lockDir(host);
  const staleAfter = staleAfterSeconds(env);
  const token = randomBytes(8).toString("hex");
  const owner: LockOwner = { user: os.userInfo().username, machine: os.hostname(), pid: process.pid, unit: ctx.place.unit, startedAt: new Date().toISOString(), token };
  // The state dir (lock, unit records, wheelhouse, Apache snippets, pip seeds) is the deploy user's alone.
  const stateDir = abs(host, host.stateDir);
  const script = (sliceSeconds: number) => lockScript({ stateDir, dir, token, owner: renderOwner(owner), sliceSeconds });
  const here = { machine: os.hostname(), isRunning: isRunningLocally };
  const ownerFile = `${dir}/owner`;
  let heartbeat: NodeJS.Timeout | undefined;
  // True from sending a try until its answer arrived: a try whose answer never came may still wait on the host.
  let remoteMayRun = false;

  const acquire = async (waitSeconds = 600): Promise<void> => {
    const deadline = Date.now() + waitSeconds * 1000;
    // While it waits, a heartbeat says so and names the current holder (it may change).
    let waiting: { holder: string; since: number; beat: Heartbeat } | undefined;
    let pause = 500;
    // Every pass ends at the deadline, whatever the host answered: no answer we cannot
    // read makes this loop forever. The first try never blocks, so a stale lock is reported at once.
    try {
    for (let first = true; ; first = false) {
      const slice = first ? 0 : Math.min(WAIT_SLICE_SECONDS, Math.ceil((deadline - Date.now()) / 1000));
      remoteMayRun = true;
      const { stdout } = await ctx.session.run(ctx.place, "take host lock", script(slice));
      remoteMayRun = false;
      const [verdict, ...rest] = stdout.split("\n");
      if (verdict === "acquired") break;
      if (verdict === "cancelled") throw errors.lockWaitCancelled(ctx.place);
      const state = parseLockState(rest.join("\n"));
      if (verdict !== "waited" && verdict !== "tried") {
        throw new WebshareError(
          `${ctx.place.unit} on ${ctx.place.target}: step "take host lock" failed: the host answered ${JSON.stringify(stdout.trim().slice(0, 200))}, neither "acquired" nor the lock's owner`,
          `something on the host prints into every command's output after it starts; run \`ssh ${ctx.place.target.replace(/:\d+$/, "")} true\` and look for output`,
        );
      }
      if (state.held) {
        const holder = describeOwner(state.owner, state.raw);
        const verdict = staleness(state.owner, state.ageSeconds, here, staleAfter);
        if (verdict.stale) throw errors.lockStale(ctx.place, holder, verdict.why, dir, unlockHint(host));
        if (Date.now() >= deadline) throw errors.lockHeld(ctx.place, holder, waitSeconds, dir, unlockHint(host));
        if (waiting === undefined) {
          ctx.progress.info(`waiting for the host lock held by ${holder}`);
          const beat = ctx.progress.heartbeat("wait for the host lock", { status: () => `held by ${waiting?.holder}` });
          waiting = { holder, since: Date.now(), beat };
        }
        waiting.holder = holder;
      } else if (Date.now() >= deadline) {
        // Freed between our mkdir and our look: it keeps changing hands; give up like a held one.
        throw errors.lockHeld(ctx.place, "(changing holders)", waitSeconds, dir, unlockHint(host));
      }
      // A waiter that may not block on the host (others do) backs off here: 0.5, 1, 2, 4, 5 s...
      if (verdict === "tried" && !first) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now())) * (0.75 + Math.random() * 0.5)));
        pause = Math.min(pause * 2, LOCAL_BACKOFF_MAX_MS);
      }
    }
    } finally {
      waiting?.beat.stop();
    }
    if (waiting !== undefined) ctx.progress.info(`took the host lock after waiting ${((Date.now() - waiting.since) / 1000).toFixed(1)}s`);
    heartbeat = setInterval(() => void ctx.session.runRaw(ctx.place, "refresh host lock", commandLine(["touch", "-c", ownerFile])).catch(() => undefined), HEARTBEAT_SECONDS * 1000);
    heartbeat.unref();
  };

  // Remove it only if it is still ours; first stop a wait that may still run on the host (see lockScript).
  const releaseScript = () =>
    [
      ...(remoteMayRun ? [`${commandLine(["touch", cancelMark(stateDir, token)])} 2>/dev/null`] : []),
      `grep -q ${quote(`"token":"${token}"`)} ${quote(ownerFile)} 2>/dev/null && ${commandLine(["rm", "-rf", dir])} || true`,
    ].join("; ");
  const release = async (before: readonly string[]): Promise<void> => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    const script = [...before.map((b) => `{ ${b}; } >/dev/null 2>&1`), releaseScript()].join("; ");
    try {
      await ctx.session.run(ctx.place, "release host lock", script);
    } catch (first) {
      // The session dropped (that may be why we stop): release over a fresh connection.
      const detail = await releaseOverNewSession(ctx, host, script);
      if (detail !== undefined) {
        ctx.progress.info(
          `could not release the host lock ${dir} (${first instanceof WebshareError ? first.message : String(first)}; reconnecting: ${detail}); ` +
            `the next deploy from this machine reports it as stale and names the command that removes it: ${unlockHint(host)}`,
        );
      }
    }
  };
  // Once: a second call (the normal end racing an interrupt) waits for the first.
  let releasing: Promise<void> | undefined;
  return { acquire, release: (before = []) => (releasing ??= release(before)) };
}

// Direct, never through the connection broker: after Ctrl+C the broker's run is stopping too.
async function releaseOverNewSession(ctx: StepContext, host: HostSpec, script: string): Promise<string | undefined> {
  let session: HostSession | undefined;
  try {
    // One quick attempt: the release runs while the provisioner is being stopped.
    session = await HostSession.open({ ...host.connection, connectTimeoutSeconds: Math.min(host.connection.connectTimeoutSeconds, 10), connectAttempts: 1 }, ctx.env, () => undefined);
    await session.run(ctx.place, "release host lock", script);
    return undefined;
  } catch (e) {
    return e instanceof WebshareError ? e.message : String(e);
  } finally {
    session?.dispose();
  }
}

/** Remove the lock whoever holds it (`webshare host-lock --force`); returns what was there. */
export async function removeHostLock(ctx: StepContext, host: HostSpec): Promise<LockState> {
  const state = await readHostLock(ctx, host);
  if (state.held) await ctx.session.run(ctx.place, "remove host lock", commandLine(["rm", "-rf", lockDir(host)]));
  return state;
}
