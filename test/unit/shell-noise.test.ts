import * as fs from "node:fs";
import * as path from "node:path";
import { framedScript, newMarker, runFramed, unframe } from "../../lib/ssh/framing";
import { acquireHostLock, hostLock } from "../../lib/lifecycle/host-lock";
import type { StepContext } from "../../lib/lifecycle/context";
import { Progress } from "../../lib/progress";
import { errorText } from "../../lib/errors";
import { LocalShellSession, middleTierHost, tempHome } from "../support/local-shell-session";

/**
 * Shell noise: sshd runs each command through the login shell, which on Debian reads
 * ~/.bashrc, and real hosts print from there ("Welcome"). Before framing, one such line
 * made "take host lock" poll forever with the lock already taken.
 */

const NOISE = `echo "Welcome to the host"; echo "motd on stderr" >&2`;

describe("framing", () => {
  test("cuts what the login shell printed before the command, on stdout and stderr", async () => {
    const marker = newMarker();
    expect(unframe(`Welcome\n${marker}\nacquired\n`, marker)).toBe("acquired\n");
    expect(unframe(`${marker}\nout`, marker)).toBe("out");
    expect(unframe("no marker: the shell failed first", marker)).toBeUndefined();
    expect(framedScript("if true; then echo x; fi", marker)).toContain(`\nif true; then echo x; fi`);
    const sh = new LocalShellSession(tempHome("noise"));
    sh.startupNoise = NOISE;
    const r = await sh.runRaw({ unit: "u", target: "t" }, "step", `echo out; echo err >&2; exit 3`);
    expect(r).toEqual({ stdout: "out\n", stderr: "err\n", code: 3 });
  });

  test("keeps the raw output when the marker never came", async () => {
    const r = await runFramed(async () => ({ stdout: "bash: bad rc\n", stderr: "", code: 1 }), "true");
    expect(r).toEqual({ stdout: "bash: bad rc\n", stderr: "", code: 1 });
  });
});

function world(noise?: string) {
  const home = tempHome("noise-lock");
  const session = new LocalShellSession(home);
  session.startupNoise = noise;
  const lines: string[] = [];
  const ctx: StepContext = { session, place: { unit: "t/unit", target: session.target }, progress: new Progress("t/unit", (l) => lines.push(l)), instance: "test", env: {} };
  const host = middleTierHost(home);
  return { home, session, ctx, host, lines };
}

describe("host lock under a noisy login shell", () => {
  test("is taken and released; the state dir is the user's alone", async () => {
    const w = world(NOISE);
    const lock = await acquireHostLock(w.ctx, w.host, [], 2);
    expect(fs.existsSync(path.join(w.home, ".webshare/lock/owner"))).toBe(true);
    expect(fs.statSync(path.join(w.home, ".webshare")).mode & 0o777).toBe(0o700);
    await lock.release();
    expect(fs.existsSync(path.join(w.home, ".webshare/lock"))).toBe(false);
  }, 10_000);

  test("an answer it cannot read ends the wait with an error naming it, and leaves no lock", async () => {
    const w = world();
    const inner = w.session.run.bind(w.session);
    // A host whose output is mangled AFTER our command starts (framing cannot help there).
    w.session.run = async (place, step, script, options) => {
      const r = await inner(place, step, script, options);
      return step === "take host lock" ? { ...r, stdout: `garbage\n${r.stdout}` } : r;
    };
    const message = await acquireHostLock(w.ctx, w.host, [], 2).then(() => "no error", errorText);
    expect(message).toContain('the host answered "garbage');
    expect(fs.existsSync(path.join(w.home, ".webshare/lock"))).toBe(false);
  }, 10_000);

  test("a cleanup registered before the lock is taken releases it (an interrupt during the wait)", async () => {
    const w = world(NOISE);
    const lock = hostLock(w.ctx, w.host);
    const cleanup = () => lock.release();
    await lock.acquire(2);
    await cleanup();
    expect(fs.existsSync(path.join(w.home, ".webshare/lock"))).toBe(false);
    // Another holder's lock is never removed by our release.
    fs.mkdirSync(path.join(w.home, ".webshare/lock"));
    fs.writeFileSync(path.join(w.home, ".webshare/lock/owner"), '{"token":"someone-else"}');
    await hostLock(w.ctx, w.host).release();
    expect(fs.existsSync(path.join(w.home, ".webshare/lock/owner"))).toBe(true);
  }, 10_000);
});
