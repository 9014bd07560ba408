import * as os from "node:os";
import { randomBytes } from "node:crypto";
import { allOf, commandLine, quote } from "../shell";
import { errors } from "../errors";
import { abs, StepContext } from "./context";
import type { HostSpec } from "../spec";

/**
 * One deploy at a time per host home: a lock directory made with `mkdir` (atomic on POSIX)
 * holding who took it. Units of one `cdktf deploy` run in parallel, so a busy lock is waited
 * for (with progress) up to a limit, then reported with its holder; never stolen.
 */
export interface HeldLock {
  release(): Promise<void>;
}

export function lockDir(host: HostSpec): string {
  return abs(host, `${host.stateDir}/lock`);
}

export async function acquireHostLock(ctx: StepContext, host: HostSpec, waitSeconds = 600): Promise<HeldLock> {
  const dir = lockDir(host);
  const token = randomBytes(8).toString("hex");
  const owner = `${os.userInfo().username}@${os.hostname()} pid ${process.pid} unit ${ctx.place.unit} since ${new Date().toISOString()} token ${token}`;
  const tryLock =
    `${allOf([["mkdir", "-p", abs(host, host.stateDir)]])} && ` +
    `if mkdir ${quote(dir)} 2>/dev/null; then printf '%s\\n' ${quote(owner)} > ${quote(dir + "/owner")}; echo acquired; ` +
    `else cat ${quote(dir + "/owner")} 2>/dev/null || echo unknown; fi`;
  const deadline = Date.now() + waitSeconds * 1000;
  let announced = false;
  for (;;) {
    const { stdout } = await ctx.session.run(ctx.place, "take host lock", tryLock);
    if (stdout.trim() === "acquired") break;
    if (Date.now() > deadline) throw errors.lockHeld(ctx.place, `${stdout.trim()}; lock directory ${dir}`);
    if (!announced) ctx.progress.info(`waiting for the host lock held by ${stdout.trim()}`);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 500));
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      // Remove it only if it is still ours.
      const script = `grep -q ${quote("token " + token)} ${quote(dir + "/owner")} 2>/dev/null && ${commandLine(["rm", "-rf", dir])} || true`;
      await ctx.session.runRaw(ctx.place, "release host lock", script);
    },
  };
}
