import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { hostLock, HostLockHandle, lockScript, BLOCKING_WAITERS } from "../../lib/lifecycle/host-lock";
import { renderOwner } from "../../lib/lifecycle/lock-owner";
import type { StepContext } from "../../lib/lifecycle/context";
import { CountingSession } from "../../lib/ssh/counting-session";
import { Progress } from "../../lib/progress";
import { errorText } from "../../lib/errors";
import { LocalShellSession, middleTierHost, tempHome } from "../support/local-shell-session";

/**
 * The host lock's wait, in the middle tier: the real lock scripts run with /bin/sh on a
 * temporary home. A waiter blocks ON THE HOST (one remote command per wait slice, not one per
 * try), takes the lock as soon as the holder lets go, stops cleanly when interrupted, and
 * reports a stale lock on its first try. Remote commands are counted as a deploy counts them.
 */

let home: string;
beforeEach(() => (home = tempHome("webshare-lock-wait")));
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const host = () => middleTierHost(home);
const lockDir = () => path.join(home, ".webshare/lock");
const stateEntries = () => fs.readdirSync(path.join(home, ".webshare")).sort();

interface Party {
  lock: HostLockHandle;
  session: CountingSession;
  lines: string[];
  /** Resolves when a progress line matching `pattern` is written. */
  line(pattern: RegExp): Promise<string>;
}

function party(unit: string): Party {
  const session = new CountingSession(new LocalShellSession(home));
  const lines: string[] = [];
  const watchers: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const write = (l: string) => {
    lines.push(l);
    for (const w of watchers.filter((w) => w.pattern.test(l))) w.resolve(l);
  };
  const ctx: StepContext = { session, place: { unit, target: "tester@middle-tier" }, progress: new Progress(unit, write, undefined, { heartbeatSeconds: 3600 }), instance: "test", env: {} };
  return {
    lock: hostLock(ctx, host()),
    session,
    lines,
    line: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => watchers.push({ pattern, resolve }));
    },
  };
}

test("a waiter blocks on the host and takes the lock when the holder lets go: two remote commands, not one per try", async () => {
  const holder = party("t/django-venv");
  await holder.lock.acquire();
  const waiter = party("t/flask-venv");
  const taking = waiter.lock.acquire();
  expect(await waiter.line(/waiting for the host lock/)).toMatch(new RegExp(`^\\[t/flask-venv\\] waiting for the host lock held by ${os.userInfo().username}@${os.hostname()} pid ${process.pid} \\(t/django-venv, since `));
  await holder.lock.release();
  await taking;
  expect(waiter.session.commands).toBe(2); // the first try, then one wait on the host
  expect(waiter.lines.some((l) => /^\[t\/flask-venv\] took the host lock after waiting \d+\.\ds$/.test(l))).toBe(true);
  expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/flask-venv"');
  await waiter.lock.release();
  expect(fs.existsSync(lockDir())).toBe(false);
  expect(stateEntries()).toEqual([]); // no wait or cancel marks left behind
});

test("Ctrl+C while waiting: the wait on the host stops, never takes the lock later, and the holder keeps it", async () => {
  const holder = party("t/holder");
  await holder.lock.acquire();
  const waiter = party("t/waiter");
  const taking = waiter.lock.acquire().then(() => "took it", errorText);
  await waiter.line(/waiting for the host lock/);
  // What the interrupt handler does: release (the wait is still running on the host).
  await waiter.lock.release();
  expect(await taking).toContain("t/waiter on tester@middle-tier: stopped while waiting for the host lock (the deploy was interrupted); nothing was deployed");
  expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/holder"');
  await holder.lock.release();
  expect(fs.existsSync(lockDir())).toBe(false);
  expect(stateEntries()).toEqual([]);
});

test("a wait interrupted just as it took the lock drops it again", () => {
  const stateDir = path.join(home, ".webshare");
  fs.mkdirSync(stateDir);
  // The cancel mark is there before the try: it takes the lock and at once gives it back.
  fs.writeFileSync(path.join(stateDir, "lock.cancel-abc"), "");
  const out = execFileSync("/bin/sh", ["-c", lockScript({ stateDir, dir: lockDir(), token: "abc", owner: "x\n", sliceSeconds: 5 })], { encoding: "utf8" });
  expect(out).toBe("cancelled\n");
  expect(stateEntries()).toEqual([]);
});

test(`at most ${BLOCKING_WAITERS} waiters of a host block on it (each holds an SSH channel); the next only tries`, () => {
  const stateDir = path.join(home, ".webshare");
  fs.mkdirSync(lockDir(), { recursive: true });
  fs.writeFileSync(path.join(lockDir(), "owner"), renderOwner({ user: "u", machine: "m", pid: 1, unit: "t/holder", startedAt: "now", token: "hold" }));
  for (let i = 0; i < BLOCKING_WAITERS; i++) fs.writeFileSync(path.join(stateDir, `lock.wait-other${i}`), "");
  const out = execFileSync("/bin/sh", ["-c", lockScript({ stateDir, dir: lockDir(), token: "abc", owner: "x\n", sliceSeconds: 60 })], { encoding: "utf8" });
  expect(out.split("\n").slice(0, 2)).toEqual(["tried", "webshare-lock-held"]);
  expect(out).toContain('"unit":"t/holder"');
  expect(fs.existsSync(path.join(stateDir, "lock.wait-abc"))).toBe(false);
});

test("a lock whose holder is gone is reported on the first try, without waiting", async () => {
  fs.mkdirSync(lockDir(), { recursive: true });
  // A pid of this machine that is not running: the holder was killed.
  const dead = Number(execFileSync("/bin/sh", ["-c", "sh -c 'echo $$'"], { encoding: "utf8" }).trim());
  fs.writeFileSync(path.join(lockDir(), "owner"), renderOwner({ user: os.userInfo().username, machine: os.hostname(), pid: dead, unit: "t/killed", startedAt: "2026-11-29T20:00:00.000Z", token: "dead" }));
  const waiter = party("t/next");
  const message = await waiter.lock.acquire().then(() => "took it", errorText);
  expect(message).toContain(`the host lock looks stale: held by ${os.userInfo().username}@${os.hostname()} pid ${dead} (t/killed, since 2026-11-29T20:00:00.000Z), but process ${dead} is no longer running`);
  expect(message).toContain("webshare host-lock --host t/host --force");
  expect(waiter.session.commands).toBe(1);
  await waiter.lock.release();
  expect(fs.existsSync(lockDir())).toBe(true); // never taken over
});
