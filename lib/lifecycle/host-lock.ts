import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { allOf, commandLine, quote } from "../shell";
import { errors, WebshareError } from "../errors";
import { abs, StepContext } from "./context";
import { slug } from "../paths";
import { sha256Hex } from "../hash";
import type { HostSpec } from "../spec";
import type { Heartbeat } from "../progress";
import type { ExecResult, RemoteSession } from "../ssh/remote-session";
import { openHostSession } from "../host/open";
import { describeOwner, HEARTBEAT_SECONDS, isRunningLocally, LockOwner, parseOwner, renderOwner, staleAfterSeconds, staleness } from "./lock-owner";

/**
 * Locks of a host home: lock directories made with `mkdir` (atomic on POSIX), each holding
 * an owner file (who, where, pid, since, a token). The HOST lock (`~/.webshare/lock`)
 * guards what the units of a host share (the wheelhouse, the pip seed, Apache's config and
 * reload, the daemon restarts, the inventory); a UNIT lock (`~/.webshare/locks/<unit>`)
 * guards one unit's own paths for its whole run. A unit run takes its unit lock, then the
 * host lock, and lets go of the host lock only while it works on its own paths alone (pip
 * install into its new venv dir, or the whole venv build from a ready seed, lifecycle/venv.ts:
 * `withoutHostLock` of host/locking-session.ts), so units of one host build at once.
 * Order, so no two runs wait for each other: unit locks (sorted) before the host lock;
 * nothing waits for a unit lock while it holds the host lock (the inventory only looks).
 * Units of one `cdktf deploy` and of parallel deploys wait for a live holder, up to a limit,
 * then fail naming it. A stale lock (holder gone, or silent for too long) is reported at
 * once with the command that removes it; it is never taken over silently. While held, the
 * owner file is touched every HEARTBEAT_SECONDS, so silence means the holder is gone.
 */
export interface HeldLock {
  /** `before`: remote shell snippets to run first, best-effort (an interrupted run's cleanup). */
  release(before?: readonly string[]): Promise<void>;
}

export function lockDir(host: HostSpec): string {
  return abs(host, `${host.stateDir}/lock`);
}

/** Where the unit locks of a host live. */
export function unitLocksDir(host: HostSpec): string {
  return abs(host, `${host.stateDir}/locks`);
}

/**
 * The lock of a unit's own paths, keyed by its content dir (home-relative: a Venv's venvs
 * dir, an app's releases dir), not by its name: two units claiming the same dir (two stacks
 * deploying the same paths to one home) share the lock and never build there at once.
 */
export function unitLockDir(host: HostSpec, ownDir: string): string {
  return `${unitLocksDir(host)}/${slug(ownDir)}-${sha256Hex(ownDir).slice(0, 8)}`;
}

/** The dir a unit's lock is keyed by (unitLockDir). */
export function ownDirOf(spec: { readonly kind: "venv"; readonly venvsDir: string } | { readonly kind: "app"; readonly releasesDir: string }): string {
  return spec.kind === "venv" ? spec.venvsDir : spec.releasesDir;
}

/** The lock as seen on the host: absent, or held with its owner file and its age by the host's clock. */
export type LockState = { readonly held: false } | { readonly held: true; readonly raw: string; readonly owner?: LockOwner; readonly ageSeconds?: number };

const HELD = "webshare-lock-held";
/** The line between a lock try's verdict and the output of the command that rode with it. */
const TOOK = "webshare-lock-taken";

/** Shell text printing HELD, the owner file's age in seconds (or ?), then the owner file. `dir`: a shell word (quoted path or "$d"). */
function inspectScript(dir: string): string {
  const owner = `${dir}/owner`;
  return (
    `printf '%s\\n' ${HELD}; ` +
    `{ m=$(stat -c %Y ${owner} 2>/dev/null || stat -c %Y ${dir} 2>/dev/null) && echo $(( $(date +%s) - m )); } || echo '?'; ` +
    `cat ${owner} 2>/dev/null || true`
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
  return readLock(ctx, dir);
}

/** Read the lock in `dir` without touching it. */
export async function readLock(ctx: StepContext, dir: string): Promise<LockState> {
  const { stdout } = await ctx.session.run(ctx.place, "read host lock", `if [ -d ${quote(dir)} ]; then ${inspectScript(quote(dir))}; fi`);
  return parseLockState(stdout);
}

/** The command that removes the locks of this host (the host lock and every unit lock), for messages. */
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
  /** Take the locks (those not held yet), waiting for a live holder up to `waitSeconds`; throws when it cannot. */
  acquire(waitSeconds?: number): Promise<void>;
  /**
   * Take the locks with `script` run right behind them in the same exchange (it runs only
   * once they are held; its output and exit code are what this returns). When the one try
   * finds them held, it waits as `acquire` does, then runs `script` on its own.
   */
  acquireWith(step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }>;
  /**
   * One try (never waiting) with `then` behind it, as shell text for a command of the
   * caller's (a stage at the end of a larger command); `took` reads that command's output:
   * what `then` printed once the locks were held, or undefined when they were not free and
   * `then` did not run. Until `took` has seen an answer, a release leaves the cancel mark.
   */
  tryWith(then: string): LockRide;
  /** Shell text that lets go of the host lock and keeps the unit locks (best effort, prints nothing), for a command to start with. */
  letGoScript(): string;
  /**
   * Shell text that releases the locks, for the run's last command to end with (`inline.done()`
   * once that command has run: the release then sends nothing more). Ends with `true`.
   */
  readonly inline: { script(): string; done(): void };
}

/** A lock's try riding in a command of the caller's (HostLockHandle.tryWith). */
export interface LockRide {
  readonly script: string;
  took(stdout: string): string | undefined;
}

export async function acquireHostLock(ctx: StepContext, host: HostSpec, ownDirs: readonly string[] = [], waitSeconds = 600): Promise<HeldLock> {
  const lock = hostLock(ctx, host, ownDirs);
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
  /** Absolute state dir. */
  readonly stateDir: string;
  /** Lock dirs to take, in this order (unit locks, then the host lock); those this token holds already are skipped. */
  readonly dirs: readonly string[];
  /** This handle's token: names its cancel and wait marks, and is in its owner files. */
  readonly token: string;
  /** The owner file's content should it take a lock. */
  readonly owner: string;
  /** How long it may wait on the host for the locks (0: one try). */
  readonly sliceSeconds: number;
}

/** The mark `release` leaves for a wait that may still run on the host: the wait sees it, gives up, and drops the locks if it just took them. */
export function cancelMark(stateDir: string, token: string): string {
  return `${stateDir}/lock.cancel-${token}`;
}

/** Shell text: whether the lock dir (a shell word) holds `token`. */
const holds = (dir: string, token: string) => `grep -qF ${quote(`"token":"${token}"`)} ${dir}/owner 2>/dev/null`;

/** Shell text: remove each of `dirs` that holds `token`, then the unit locks dir if empty. */
function dropScript(stateDir: string, dirs: readonly string[], token: string): string {
  return [...dirs.map((d) => `{ ${holds(quote(d), token)} && ${commandLine(["rm", "-rf", d])}; }`), `rmdir ${quote(`${stateDir}/locks`)} 2>/dev/null`, "true"].join("; ");
}

/**
 * Shell text: one try to take the locks, in order, or a wait for them ON THE HOST of up to
 * `sliceSeconds`: `mkdir` again and again with a sleep that doubles from 0.1 s to 1 s, so
 * a lock changes hands within a second of its release at the cost of one remote command
 * per slice instead of one per try. A slice ends early when the holder changes (the
 * deploying machine then looks at the new one: stale?). Only BLOCKING_WAITERS waiters of a
 * host block at once (each marks itself with `lock.wait-<token>` in the state dir): each
 * holds an SSH channel while it waits, and the units of a `webshare deploy` share one
 * connection whose channels are few (lib/ssh/broker-pool.ts), so the holder must keep some.
 * The others only try, and back off on the deploying machine. A wait whose deploy was
 * interrupted (Ctrl+C: the channel is closed, but a remote shell without a tty keeps
 * running) sees the cancel mark `release` leaves and stops, dropping what it took after
 * the mark was made; so no interrupted wait takes a lock later. Marks older than 2 minutes
 * (a killed wait's) are removed. Prints a LockVerdict line; for `waited`/`tried` then the
 * dir it waits for and that lock's state (inspectScript).
 */
export function lockScript(o: LockScriptOptions): string {
  const cancel = quote(cancelMark(o.stateDir, o.token));
  const mark = quote(`${o.stateDir}/lock.wait-${o.token}`);
  const slice = Math.max(0, Math.floor(o.sliceSeconds));
  const parents = [...new Set(o.dirs.map((d) => path.posix.dirname(d)))];
  // take DIR: sets r (acquired, cancelled, or $r0 when the slice ended or the holder changed).
  const take = [
    `take() {`,
    `  if ${holds('"$1"', o.token)}; then r=acquired; return; fi;`,
    `  o0=$(cat "$1/owner" 2>/dev/null); t=1;`,
    `  while :; do`,
    `    if [ -e ${cancel} ]; then r=cancelled; return; fi;`,
    // The unit locks dir goes when its last lock does (dropScript): make it again if need be.
    `    if mkdir "$1" 2>/dev/null || { mkdir -p "\${1%/*}" && mkdir "$1" 2>/dev/null; }; then printf '%s' ${quote(o.owner)} > "$1/owner"; if [ -e ${cancel} ]; then r=cancelled; else r=acquired; fi; return; fi;`,
    `    [ $(date +%s) -lt $end ] || { r=$r0; return; };`,
    `    o=$(cat "$1/owner" 2>/dev/null); if [ -n "$o" ] && [ "$o" != "$o0" ]; then r=$r0; return; fi;`,
    `    sleep $((t / 10)).$((t % 10)); t=$((t * 2)); [ $t -le 10 ] || t=10;`,
    `  done;`,
    `};`,
  ].join(" ");
  return [
    `${allOf([["mkdir", "-p", o.stateDir, ...parents], ["chmod", "0700", o.stateDir]])} &&`,
    `{ ${commandLine(["find", o.stateDir, "-maxdepth", "1", "(", "-name", "lock.cancel-*", "-o", "-name", "lock.wait-*", ")", "-mmin", "+2", "-exec", "rm", "-f", "{}", "+"])} 2>/dev/null; true; } &&`,
    `{ ${take} r0=tried; end=0;`,
    // Block only while fewer than BLOCKING_WAITERS others do.
    slice > 0 ? `set -- ${quote(o.stateDir)}/lock.wait-*; if [ ! -e "$1" ] || [ $# -lt ${BLOCKING_WAITERS} ]; then touch ${mark}; r0=waited; end=$(( $(date +%s) + ${slice} )); fi;` : "",
    `r=acquired; for d in ${o.dirs.map(quote).join(" ")}; do take "$d"; [ $r = acquired ] || break; done;`,
    `rm -f ${mark}; if [ $r = cancelled ]; then ${dropScript(o.stateDir, o.dirs, o.token)}; rm -f ${cancel}; fi;`,
    `echo $r; case $r in waited|tried) printf '%s\\n' "$d"; ${inspectScript('"$d"')};; esac; }`,
  ].filter((l) => l !== "").join(" ");
}

/** What a lock dir is, for messages: the host lock, or the lock of a unit's dir. */
function lockNoun(host: HostSpec, ownDirs: readonly string[], dir: string): string {
  const own = ownDirs.find((d) => unitLockDir(host, d) === dir);
  return own === undefined ? "host lock" : `lock of ${own}`;
}

/**
 * The locks of one run on `host`: the unit locks of `ownDirs` (see unitLockDir; sorted),
 * then the host lock. `release` works before, during and after `acquire`, see HostLockHandle.
 */
export function hostLock(ctx: StepContext, host: HostSpec, ownDirs: readonly string[] = []): HostLockHandle {
  const env = ctx.env;
  const hostDir = lockDir(host);
  const unitDirs = [...new Set(ownDirs)].sort().map((u) => unitLockDir(host, u));
  const dirs = [...unitDirs, hostDir];
  const staleAfter = staleAfterSeconds(env);
  const token = randomBytes(8).toString("hex");
  const owner: LockOwner = { user: os.userInfo().username, machine: os.hostname(), pid: process.pid, unit: ctx.place.unit, startedAt: new Date().toISOString(), token };
  // The state dir (locks, unit records, wheelhouse, Apache snippets, pip seeds) is the deploy user's alone.
  const stateDir = abs(host, host.stateDir);
  const script = (sliceSeconds: number) => lockScript({ stateDir, dirs, token, owner: renderOwner(owner), sliceSeconds });
  const here = { machine: os.hostname(), isRunning: isRunningLocally };
  let heartbeat: NodeJS.Timeout | undefined;
  // True from sending a try until its answer arrived: a try whose answer never came may still wait on the host.
  let remoteMayRun = false;

  const acquire = async (waitSeconds = 600): Promise<void> => {
    const deadline = Date.now() + waitSeconds * 1000;
    // While it waits, a heartbeat says so and names the current holder (it may change).
    let waiting: { noun: string; holder: string; since: number; beat: Heartbeat } | undefined;
    let pause = 500;
    // Every pass ends at the deadline, whatever the host answered: no answer we cannot
    // read makes this loop forever. The first try never blocks, so a stale lock is reported at once.
    try {
    for (let first = true; ; first = false) {
      const slice = first ? 0 : Math.min(WAIT_SLICE_SECONDS, Math.ceil((deadline - Date.now()) / 1000));
      remoteMayRun = true;
      const { stdout } = await ctx.session.run(ctx.place, "take host lock", script(slice));
      remoteMayRun = false;
      const [verdict, blocking = "", ...rest] = stdout.split("\n");
      if (verdict === "acquired") break;
      if (verdict === "cancelled") throw errors.lockWaitCancelled(ctx.place);
      const state = parseLockState(rest.join("\n"));
      if ((verdict !== "waited" && verdict !== "tried") || !dirs.includes(blocking)) {
        throw new WebshareError(
          `${ctx.place.unit} on ${ctx.place.target}: step "take host lock" failed: the host answered ${JSON.stringify(stdout.trim().slice(0, 200))}, neither "acquired" nor the lock's owner`,
          `something on the host prints into every command's output after it starts; run \`ssh ${ctx.place.target.replace(/:\d+$/, "")} true\` and look for output`,
        );
      }
      const noun = lockNoun(host, ownDirs, blocking);
      if (state.held) {
        const holder = describeOwner(state.owner, state.raw);
        const verdict = staleness(state.owner, state.ageSeconds, here, staleAfter);
        if (verdict.stale) throw errors.lockStale(ctx.place, holder, verdict.why, blocking, unlockHint(host), noun);
        if (Date.now() >= deadline) throw errors.lockHeld(ctx.place, holder, waitSeconds, blocking, unlockHint(host), noun);
        if (waiting === undefined || waiting.noun !== noun) {
          waiting?.beat.stop();
          ctx.progress.info(`waiting for the ${noun} held by ${holder}`);
          const beat = ctx.progress.heartbeat(`wait for the ${noun}`, { status: () => `held by ${waiting?.holder}` });
          waiting = { noun, holder, since: waiting?.since ?? Date.now(), beat };
        }
        waiting.holder = holder;
      } else if (Date.now() >= deadline) {
        // Freed between our mkdir and our look: it keeps changing hands; give up like a held one.
        throw errors.lockHeld(ctx.place, "(changing holders)", waitSeconds, blocking, unlockHint(host), noun);
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
    if (waiting !== undefined) ctx.progress.info(`took the ${waiting.noun} after waiting ${((Date.now() - waiting.since) / 1000).toFixed(1)}s`);
    startHeartbeat();
  };

  const startHeartbeat = () => {
    if (heartbeat !== undefined) return;
    // Touches only the owner files that hold this token (never another holder's).
    const touch = dirs.map((d) => `{ ${holds(quote(d), token)} && ${commandLine(["touch", "-c", `${d}/owner`])}; }`).join("; ");
    heartbeat = setInterval(() => void ctx.session.runRaw(ctx.place, "refresh host lock", `${touch}; true`).catch(() => undefined), HEARTBEAT_SECONDS * 1000);
    heartbeat.unref();
  };

  // The try (never blocking), then `then` once the locks are held, in a command of the caller's.
  const tryWith = (then: string): LockRide => {
    remoteMayRun = true;
    return {
      script: `${script(0)}; if [ "$r" = acquired ]; then printf '%s\\n' ${quote(TOOK)}; { ${then}; }; fi`,
      took: (stdout) => {
        remoteMayRun = false;
        // The marker is printed only once the locks are held, right before `then`: seen anywhere
        // (even after text a startup file printed), `then` ran and must not run again.
        const taken = `acquired\n${TOOK}\n`;
        const at = stdout.indexOf(taken);
        if (at < 0) return undefined;
        startHeartbeat();
        return stdout.slice(at + taken.length);
      },
    };
  };

  // One exchange when the locks are free: the try, then `then` once they are held.
  const acquireWith = async (step: string, then: string, stdin?: string): Promise<ExecResult & { code: number }> => {
    const ride = tryWith(then);
    const tried = await ctx.session.runRaw(ctx.place, "take host lock", ride.script, stdin);
    const out = ride.took(tried.stdout);
    if (out !== undefined) return { code: tried.code, stdout: out, stderr: tried.stderr };
    // Held by another run (or an answer the full acquire explains): wait as acquire does, then run it alone.
    await acquire();
    return ctx.session.runRaw(ctx.place, step, then, stdin);
  };

  // Remove what is still ours; first stop a try or wait that may still run on the host (see lockScript).
  const cancelScript = () => (remoteMayRun ? [`${commandLine(["touch", cancelMark(stateDir, token)])} 2>/dev/null`] : []);
  const releaseScript = (which: readonly string[]) => [...cancelScript(), dropScript(stateDir, which, token)].join("; ");
  const run = async (script: string): Promise<void> => {
    try {
      await ctx.session.run(ctx.place, "release host lock", script);
    } catch (first) {
      // The session dropped (that may be why we stop): release over a fresh connection.
      const detail = await releaseOverNewSession(ctx, host, script);
      if (detail !== undefined) {
        ctx.progress.info(
          `could not release the host lock ${hostDir} (${first instanceof WebshareError ? first.message : String(first)}; reconnecting: ${detail}); ` +
            `the next deploy from this machine reports it as stale and names the command that removes it: ${unlockHint(host)}`,
        );
      }
    }
  };
  let releasedInline = false;
  const release = async (before: readonly string[]): Promise<void> => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    // The run's last command released them already; an interrupt's cleanup still runs.
    if (releasedInline && before.length === 0) return;
    // The cancel mark goes first: a try still running on the host (one that rode in a build
    // whose connection dropped) then takes nothing, and runs nothing behind it, while the
    // scripts of the interrupt (a switch back) look at the host.
    await run([...cancelScript(), ...before.map((b) => `{ ${b}; } >/dev/null 2>&1`), dropScript(stateDir, dirs, token)].join("; "));
  };
  const inline = {
    script: () => `{ ${releaseScript(dirs)}; } >/dev/null 2>&1; true`,
    done: () => {
      releasedInline = true;
      if (heartbeat !== undefined) clearInterval(heartbeat);
    },
  };
  // Once: a second call (the normal end racing an interrupt) waits for the first.
  let releasing: Promise<void> | undefined;
  const letGoScript = () => `{ ${dropScript(stateDir, [hostDir], token)}; } >/dev/null 2>&1`;
  return { acquire, release: (before = []) => (releasing ??= release(before)), acquireWith, tryWith, inline, letGoScript };
}

// Direct, never through the connection broker: after Ctrl+C the broker's run is stopping too.
async function releaseOverNewSession(ctx: StepContext, host: HostSpec, script: string): Promise<string | undefined> {
  let session: RemoteSession | undefined;
  try {
    // One quick attempt: the release runs while the provisioner is being stopped.
    session = await openHostSession(host.connection, { env: ctx.env, warn: () => undefined, quick: true });
    await session.run(ctx.place, "release host lock", script);
    return undefined;
  } catch (e) {
    return e instanceof WebshareError ? e.message : String(e);
  } finally {
    session?.dispose();
  }
}

/** Remove the host lock and every unit lock, whoever holds them (`webshare host-lock --force`); returns what the host lock was and how many unit locks went. */
export async function removeHostLock(ctx: StepContext, host: HostSpec): Promise<LockState & { readonly unitLocks: number }> {
  const state = await readHostLock(ctx, host);
  const locks = unitLocksDir(host);
  const { stdout } = await ctx.session.run(ctx.place, "remove host lock", `{ ${commandLine(["ls", "-1", locks])} 2>/dev/null | wc -l; } && ${commandLine(["rm", "-rf", lockDir(host), locks])}`);
  return { ...state, unitLocks: Number(stdout.trim()) || 0 };
}
