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
import { LockingSession } from "../../lib/host/locking-session";
import { ForwardingSession } from "../../lib/ssh/forwarding-session";
import type { Place } from "../../lib/errors";

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

function party(unit: string, ownDirs: readonly string[] = []): Party {
  const session = new CountingSession(new LocalShellSession(home));
  const lines: string[] = [];
  const watchers: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const write = (l: string) => {
    lines.push(l);
    for (const w of watchers.filter((w) => w.pattern.test(l))) w.resolve(l);
  };
  const ctx: StepContext = { session, place: { unit, target: "tester@middle-tier" }, progress: new Progress(unit, write, undefined, { heartbeatSeconds: 3600 }), instance: "test", env: {} };
  return {
    lock: hostLock(ctx, host(), ownDirs),
    session,
    lines,
    line: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => watchers.push({ pattern, resolve }));
    },
  };
}

/** `running` waits for the lock `holder` has (nothing of it ran yet), then runs once when it is let go; the unit's release leaves nothing. */
async function waitsThenRunsOnce(unit: Party, holder: Party, running: Promise<{ stdout: string }>, marker: string, stdout: string): Promise<void> {
  await unit.line(/waiting for the host lock/);
  expect(fs.existsSync(marker)).toBe(false);
  await holder.lock.release();
  expect((await running).stdout).toBe(stdout);
  expect(fs.readFileSync(marker, "utf8")).toBe("x\n");
  await unit.lock.release();
  expect(stateEntries()).toEqual([]);
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

test("a wait that finds the cancel mark stops: it takes nothing, drops what it took, and removes the mark", () => {
  const stateDir = path.join(home, ".webshare");
  const unitLock = path.join(stateDir, "locks/t-unit-0000");
  fs.mkdirSync(unitLock, { recursive: true });
  // It holds the unit lock already (taken by an earlier try), then the interrupt's mark arrives.
  const owner = renderOwner({ user: "u", machine: "m", pid: 1, unit: "t/unit", startedAt: "now", token: "abc" });
  fs.writeFileSync(path.join(unitLock, "owner"), owner);
  fs.writeFileSync(path.join(stateDir, "lock.cancel-abc"), "");
  const out = execFileSync("/bin/sh", ["-c", lockScript({ stateDir, dirs: [unitLock, lockDir()], token: "abc", owner, sliceSeconds: 5 })], { encoding: "utf8" });
  expect(out).toBe("cancelled\n");
  expect(stateEntries()).toEqual([]);
});

test(`at most ${BLOCKING_WAITERS} waiters of a host block on it (each holds an SSH channel); the next only tries`, () => {
  const stateDir = path.join(home, ".webshare");
  fs.mkdirSync(lockDir(), { recursive: true });
  fs.writeFileSync(path.join(lockDir(), "owner"), renderOwner({ user: "u", machine: "m", pid: 1, unit: "t/holder", startedAt: "now", token: "hold" }));
  for (let i = 0; i < BLOCKING_WAITERS; i++) fs.writeFileSync(path.join(stateDir, `lock.wait-other${i}`), "");
  const out = execFileSync("/bin/sh", ["-c", lockScript({ stateDir, dirs: [lockDir()], token: "abc", owner: "x\n", sliceSeconds: 60 })], { encoding: "utf8" });
  expect(out.split("\n").slice(0, 3)).toEqual(["tried", lockDir(), "webshare-lock-held"]);
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

describe("units of one host in parallel where they touch different paths", () => {
  test("a unit building without the host lock lets another unit of the host run; it takes the host lock again after", async () => {
    const django = party("t/django-venv", ["private/venvs/django"]);
    const flask = party("t/flask-venv", ["private/venvs/flask"]);
    const djangoSession = new LockingSession(django.session, django.lock);
    const place = { unit: "t/django-venv", target: "tester@middle-tier" };
    await djangoSession.run(place, "check Python", "true");
    let finishBuild!: () => void;
    const built = new Promise<void>((resolve) => (finishBuild = resolve));
    let building!: () => void;
    const started = new Promise<void>((resolve) => (building = resolve));
    const build = djangoSession.withoutHostLock(async () => {
      await djangoSession.run(place, "pip install", "true");
      building();
      await built;
      return "freeze";
    });
    await started;
    // The Flask venv's unit takes its own lock and the host lock at once: no wait for the Django build.
    await flask.lock.acquire();
    expect(flask.lines.filter((l) => l.includes("waiting"))).toEqual([]);
    expect(flask.session.commands).toBe(1);
    // The Django build ends while Flask holds the host lock: its next command waits for it, naming Flask.
    finishBuild();
    expect(await build).toBe("freeze");
    const freeze = djangoSession.run(place, "record pip freeze", "echo frozen");
    expect(await django.line(/waiting for the host lock/)).toMatch(/waiting for the host lock held by \S+ pid \d+ \(t\/flask-venv, since /);
    await flask.lock.release();
    expect((await freeze).stdout).toBe("frozen\n");
    expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/django-venv"');
    await django.lock.release();
    expect(stateEntries()).toEqual([]);
  });

  test("two units of the same dir (two stacks deploying the same paths) never build there at once", async () => {
    const first = party("a/venv", ["private/venvs/shared"]);
    const second = party("b/venv", ["private/venvs/shared"]);
    const firstSession = new LockingSession(first.session, first.lock);
    const place = { unit: "a/venv", target: "tester@middle-tier" };
    await firstSession.run(place, "check Python", "true");
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const work = firstSession.withoutHostLock(async () => {
      await firstSession.run(place, "pip install", "true");
      await finished;
    });
    const taking = second.lock.acquire();
    expect(await second.line(/waiting for/)).toMatch(/^\[b\/venv\] waiting for the lock of private\/venvs\/shared held by \S+ pid \d+ \(a\/venv, since /);
    finish();
    await work;
    await first.lock.release();
    await taking;
    expect(second.lines.some((l) => /took the lock of private\/venvs\/shared after waiting/.test(l))).toBe(true);
    await second.lock.release();
    expect(stateEntries()).toEqual([]);
  });

  test("Ctrl+C during the build without the host lock releases the unit's lock and leaves the host lock alone", async () => {
    const other = party("t/other");
    const unit = party("t/venv", ["private/venvs/v"]);
    const unitSession = new LockingSession(unit.session, unit.lock);
    const place = { unit: "t/venv", target: "tester@middle-tier" };
    await unitSession.run(place, "check Python", "true");
    let building!: () => void;
    const started = new Promise<void>((resolve) => (building = resolve));
    const build = unitSession.withoutHostLock(async () => {
      await unitSession.run(place, "pip install", "true");
      building();
      return new Promise<void>(() => undefined); // pip still running when the interrupt comes
    });
    void build;
    await started;
    await other.lock.acquire();
    await unit.lock.release(["echo stop-pip"]);
    expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/other"');
    expect(fs.existsSync(path.join(home, ".webshare/locks"))).toBe(false);
    await other.lock.release();
    expect(stateEntries()).toEqual([]);
  });
});

describe("the locks ride with a unit's first and last commands (host/locking-session.ts)", () => {
  const session = (p: Party) => new LockingSession(p.session, p.lock);

  test("free: the first command and the lock try are one exchange; the last command releases them, and the release sends nothing more", async () => {
    const unit = party("t/app", ["private/releases/public"]);
    const locked = session(unit);
    const first = await locked.run({ unit: "t/app", target: "tester@middle-tier" }, "read current release", "printf 'state %s\\n' \"$(cat)\"", { stdin: "in" });
    expect(first.stdout).toBe("state in\n");
    expect(unit.session.commands).toBe(1);
    expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/app"');
    expect(fs.readdirSync(path.join(home, ".webshare/locks"))).toHaveLength(1);
    await locked.run({ unit: "t/app", target: "tester@middle-tier" }, "upload app", "true");
    await locked.run({ unit: "t/app", target: "tester@middle-tier" }, "record unit and prune", `{ true; }; rc=$?; ${unit.lock.inline.script()}; exit $rc`);
    unit.lock.inline.done();
    expect(fs.existsSync(lockDir())).toBe(false);
    expect(stateEntries()).toEqual([]);
    await unit.lock.release();
    expect(unit.session.commands).toBe(3);
  });

  test("text a host prints before the lock's answer does not make the first command run twice", async () => {
    // A session whose answers start with a line the host printed (output the framing did not catch).
    class Noisy extends ForwardingSession {
      async runRaw(place: Place, step: string, script: string, stdin?: string) {
        const result = await this.inner.runRaw(place, step, script, stdin);
        return { ...result, stdout: `Welcome\n${result.stdout}` };
      }
    }
    const noisy = new CountingSession(new Noisy(new LocalShellSession(home)));
    const ctx: StepContext = { session: noisy, place: { unit: "t/app", target: "tester@middle-tier" }, progress: new Progress("t/app", () => undefined, undefined, { heartbeatSeconds: 3600 }), instance: "test", env: {} };
    const lock = hostLock(ctx, host());
    const marker = path.join(home, "ran");
    const first = await new LockingSession(noisy, lock).runRaw(ctx.place, "read current release", `echo x >> ${marker}; echo state`);
    expect(first.stdout).toBe("state\n");
    expect(fs.readFileSync(marker, "utf8")).toBe("x\n");
    expect(noisy.commands).toBe(1);
    await lock.release();
    expect(stateEntries()).toEqual([]);
  });

  test("a first command that fails is reported under its own step, with the locks held until the release", async () => {
    const unit = party("t/venv");
    const locked = session(unit);
    const text = await locked.run({ unit: "t/venv", target: "tester@middle-tier" }, "check Python", "echo broken >&2; exit 3").then(() => "no error", errorText);
    expect(text).toContain('step "check Python" failed');
    expect(text).toContain("broken");
    expect(fs.existsSync(lockDir())).toBe(true);
    await unit.lock.release();
    expect(fs.existsSync(lockDir())).toBe(false);
  });

  test("the private work's first command lets go of the host lock, the first command after it takes it again: no exchange of their own", async () => {
    const unit = party("t/venv", ["private/venvs/v"]);
    const other = party("t/other");
    const locked = session(unit);
    const place = { unit: "t/venv", target: "tester@middle-tier" };
    await locked.run(place, "check Python", "true");
    const built = await locked.withoutHostLock(async () => {
      await locked.run(place, "pip install", "echo installed");
      // Meanwhile another unit of the host takes the host lock and lets it go, without waiting.
      await other.lock.acquire();
      expect(other.lines.filter((l) => l.includes("waiting"))).toEqual([]);
      await other.lock.release();
      return "freeze";
    });
    expect(built).toBe("freeze");
    expect((await locked.run(place, "record pip freeze", "echo frozen")).stdout).toBe("frozen\n");
    expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/venv"');
    expect(unit.session.commands).toBe(3);
    await unit.lock.release();
    expect(stateEntries()).toEqual([]);
  });

  /** An app unit whose first command took its locks; `marker` is where a ride leaves its trace. */
  const appUnitStarted = async () => {
    const unit = party("t/app", ["private/releases/public"]);
    const locked = session(unit);
    const place = { unit: "t/app", target: "tester@middle-tier" };
    await locked.run(place, "read current release", "true");
    return { unit, locked, place, marker: path.join(home, "switched") };
  };

  test("the private work's last command may take the host lock again itself (retakeWith): what rides behind it runs once, and no exchange is spent on the lock", async () => {
    const { unit, locked, place, marker } = await appUnitStarted();
    const ride = locked.retakeWith(`echo x >> ${marker}; echo switched`);
    const built = await locked.withoutHostLock(async () => (await locked.run(place, "upload app", `echo built; ${ride.script}`)).stdout);
    expect(ride.took(built)).toBe("switched\n");
    expect(fs.readFileSync(path.join(lockDir(), "owner"), "utf8")).toContain('"unit":"t/app"');
    // The next command goes straight through: no try of its own.
    expect((await locked.run(place, "record unit and prune", "echo recorded")).stdout).toBe("recorded\n");
    expect(fs.readFileSync(marker, "utf8")).toBe("x\n");
    expect(unit.session.commands).toBe(3);
    await unit.lock.release();
    expect(stateEntries()).toEqual([]);
  });

  test("the host lock busy at the work's end: what rides behind the try does not run; the next command waits for the lock, then runs alone", async () => {
    const { unit, locked, place, marker } = await appUnitStarted();
    const other = party("t/other");
    const ride = locked.retakeWith(`echo x >> ${marker}`);
    const built = await locked.withoutHostLock(async () => {
      await locked.run(place, "upload app", "echo built");
      await other.lock.acquire(); // another unit of the host takes it while this one builds
      return (await locked.run(place, "import check", ride.script)).stdout;
    });
    expect(ride.took(built)).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(false);
    await waitsThenRunsOnce(unit, other, locked.run(place, "switch release", `echo x >> ${marker}; echo switched`), marker, "switched\n");
  });

  test("interrupted while a ride may still run on the host: the release leaves the cancel mark first, so a late try takes nothing and runs nothing", async () => {
    const { unit, locked, place, marker } = await appUnitStarted();
    let script = "";
    await locked.withoutHostLock(async () => {
      await locked.run(place, "upload app", "true");
      script = locked.retakeWith(`echo x >> ${marker}`).script;
      // The exchange carrying it is cut here (Ctrl+C): no answer comes.
    });
    // What the interrupt runs over a fresh connection; the abort script sees the mark already there.
    await unit.lock.release([`test -e ${path.join(home, ".webshare")}/lock.cancel-* && touch ${path.join(home, "mark-seen")}`]);
    expect(fs.existsSync(path.join(home, "mark-seen"))).toBe(true);
    // The cut command's try, still running on the host, comes after the release.
    const late = execFileSync("/bin/sh", ["-c", script], { cwd: home, encoding: "utf8" });
    expect(late.split("\n")[0]).toBe("cancelled");
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync(lockDir())).toBe(false);
    expect(stateEntries()).toEqual([]);
  });

  test("failed private work does not take the host lock again: its cleanup runs on the unit lock alone", async () => {
    const unit = party("t/venv", ["private/venvs/v"]);
    const locked = session(unit);
    const place = { unit: "t/venv", target: "tester@middle-tier" };
    await locked.run(place, "check Python", "true");
    const failed = await locked.withoutHostLock(() => locked.run(place, "pip install", "exit 1")).then(() => "no error", errorText);
    expect(failed).toContain('step "pip install" failed');
    await locked.runRaw(place, "clean up failed venv", "true");
    expect(fs.existsSync(lockDir())).toBe(false);
    expect(fs.readdirSync(path.join(home, ".webshare/locks"))).toHaveLength(1);
    await unit.lock.release();
    expect(stateEntries()).toEqual([]);
  });

  test("held by another run: the first command waits for the lock, then runs once, alone", async () => {
    const holder = party("t/holder");
    await holder.lock.acquire();
    const unit = party("t/waiter");
    const marker = path.join(home, "ran");
    await waitsThenRunsOnce(unit, holder, session(unit).run({ unit: "t/waiter", target: "tester@middle-tier" }, "read current release", `echo x >> ${marker}; echo done`), marker, "done\n");
  });
});
