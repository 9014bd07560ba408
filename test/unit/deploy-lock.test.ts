import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeOwner, LockOwner, parseOwner, renderOwner, staleAfterSeconds, staleness } from "../../lib/lifecycle/lock-owner";
import { parseLockState } from "../../lib/lifecycle/host-lock";
import { recordPidAndRun, stopOrphanScript } from "../../lib/lifecycle/build-guard";

const owner: LockOwner = { user: "alice", machine: "laptop", pid: 4242, unit: "demo/venv", startedAt: "2026-11-21T20:00:00.000Z", token: "00ff" };
const here = (machine: string, running: number[]) => ({ machine, isRunning: (pid: number) => running.includes(pid) });

describe("lock owner", () => {
  test("round-trips through the owner file, and reads the line format of earlier versions", () => {
    expect(parseOwner(renderOwner(owner))).toEqual(owner);
    expect(parseOwner("alice@laptop pid 4242 unit demo/venv since 2026-11-21T20:00:00.000Z token 00ff\n")).toEqual(owner);
    expect(parseOwner("garbage")).toBeUndefined();
  });

  test("is described by who, where, pid, unit and since; an unreadable one says so", () => {
    expect(describeOwner(owner, "")).toBe("alice@laptop pid 4242 (demo/venv, since 2026-11-21T20:00:00.000Z)");
    expect(describeOwner(undefined, "")).toBe("an unknown holder (the lock has no owner file)");
  });
});

describe("staleness", () => {
  test("a holder on this machine whose pid is gone is stale at once", () => {
    expect(staleness(owner, 5, here("laptop", []), 1800)).toEqual({ stale: true, why: "process 4242 is no longer running on laptop" });
    expect(staleness(owner, 5, here("laptop", [4242]), 1800)).toEqual({ stale: false });
  });

  test("a holder elsewhere is stale only after the configured silence", () => {
    expect(staleness(owner, 1799, here("ci-runner", []), 1800)).toEqual({ stale: false });
    expect(staleness(owner, 3700, here("ci-runner", []), 1800)).toEqual({
      stale: true,
      why: "no sign of life for 62 min (the holder refreshes it every 30s; stale after 30 min)",
    });
    expect(staleness(undefined, undefined, here("laptop", []), 1800)).toEqual({ stale: false });
  });

  test("the age comes from WEBSHARE_LOCK_STALE_MINUTES, 30 by default", () => {
    expect(staleAfterSeconds({})).toBe(1800);
    expect(staleAfterSeconds({ WEBSHARE_LOCK_STALE_MINUTES: "0.5" })).toBe(30);
    expect(() => staleAfterSeconds({ WEBSHARE_LOCK_STALE_MINUTES: "soon" })).toThrow('WEBSHARE_LOCK_STALE_MINUTES is "soon", but it must be a positive number of minutes');
  });

  test("the host's answer: absent, or held with age and owner", () => {
    expect(parseLockState("")).toEqual({ held: false });
    expect(parseLockState(`webshare-lock-held\n12\n${renderOwner(owner)}`)).toEqual({ held: true, raw: renderOwner(owner), owner, ageSeconds: 12 });
    expect(parseLockState("webshare-lock-held\n?\n")).toEqual({ held: true, raw: "", owner: undefined, ageSeconds: undefined });
  });
});

describe("build guard (real /bin/sh)", () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare guard $(x) "))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  /** The interpreter's own path (sys.executable), resolved once through any shim. */
  let python: string;
  beforeAll(() => (python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim()));
  const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));

  test("stops a build left running that still works on its directory, and only that", async () => {
    const venvDir = path.join(root, "venvs", "0123456789abcdef");
    const pidFile = `${venvDir}.build-pid`;
    fs.mkdirSync(path.dirname(venvDir), { recursive: true });
    // The real interpreter, not a `python3` found on PATH: that may be a shim (pyenv's is a
    // bash script that execs bash twice more before Python), and while a process is between
    // two execs its /proc/<pid>/cmdline reads empty for a moment, so the guard would
    // rightly see no build there. A build runs `exec pip` directly: one exec.
    const argv = [python, "-c", "import time; time.sleep(60)", venvDir];
    const child = spawn("/bin/sh", ["-c", recordPidAndRun(pidFile, argv)], { stdio: "ignore" });
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") await new Promise((r) => setTimeout(r, 20));
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(pid).toBe(child.pid); // exec kept the shell's pid
    // Act on the build itself, once the shell has exec'd it: its final argv, not the shell's.
    while (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") !== argv.join("\0") + "\0") await new Promise((r) => setTimeout(r, 20));
    const out = execFileSync("/bin/sh", ["-c", stopOrphanScript(pidFile, venvDir)], { encoding: "utf8" });
    expect(out).toBe(`stopped ${pid}\n`);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  test("leaves alone a recorded pid that now belongs to another command", () => {
    const pidFile = path.join(root, "x.build-pid");
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    expect(execFileSync("/bin/sh", ["-c", stopOrphanScript(pidFile, path.join(root, "venvs/x"))], { encoding: "utf8" })).toBe("");
    expect(alive(process.pid)).toBe(true);
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});
