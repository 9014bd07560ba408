/**
 * `npm run bench:lock-wait [-- HOLD_SECONDS...]`: what one wait for the host lock costs. A
 * holder takes the lock on a middle-tier home (the real lock scripts run with /bin/sh on a
 * temporary dir, no sshd), a waiter asks for it, the holder lets go after HOLD_SECONDS (30
 * and 90 by default). Prints, per hold: the waiter's remote commands (what a deploy counts
 * with CountingSession; each is 3-4 network turns on a real link) and the handover (from
 * the release to the waiter holding it). Not a test: figures only.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostLock } from "../lib/lifecycle/host-lock";
import type { StepContext } from "../lib/lifecycle/context";
import { CountingSession } from "../lib/ssh/counting-session";
import { Progress } from "../lib/progress";
import { LocalShellSession, middleTierHost } from "../test/support/local-shell-session";

async function measure(holdSeconds: number): Promise<{ holdSeconds: number; waiterRemoteCommands: number; handoverSeconds: number }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-lock-wait-"));
  try {
    const party = (unit: string) => {
      const session = new CountingSession(new LocalShellSession(home));
      const ctx: StepContext = { session, place: { unit, target: session.target }, progress: new Progress(unit, () => undefined), instance: "bench", env: {} };
      return { session, lock: hostLock(ctx, middleTierHost(home)) };
    };
    const holder = party("bench/holder");
    const waiter = party("bench/waiter");
    await holder.lock.acquire();
    const taking = waiter.lock.acquire().then(() => Date.now());
    await new Promise((resolve) => setTimeout(resolve, holdSeconds * 1000));
    const released = Date.now();
    await holder.lock.release();
    const took = await taking;
    // The wait's commands: the tries up to holding it (its release is one more, as before).
    const waiterRemoteCommands = waiter.session.commands;
    await waiter.lock.release();
    return { holdSeconds, waiterRemoteCommands, handoverSeconds: (took - released) / 1000 };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const holds = process.argv.slice(2).map(Number);
  for (const hold of holds.length > 0 ? holds : [30, 90]) console.log(JSON.stringify(await measure(hold)));
}

void main();
