import * as os from "node:os";
import type { UnitSource } from "../stacks/load";
import { errors } from "../errors";
import { lockDir, ownDirOf, readHostLock, readLock, removeHostLock, unitLockDir, unitLocksDir, unlockHint } from "../lifecycle/host-lock";
import { plural } from "../plural";
import { describeOwner, isRunningLocally, staleAfterSeconds, staleness } from "../lifecycle/lock-owner";
import { HostCommandIo, onHostOf } from "../host/each-host";
import { oneUnit, unitOnHost } from "../stacks/select";

/**
 * `webshare host-lock <construct> | --host <host construct> [--force]`: show who holds the host
 * lock (with a construct: its unit lock, when the host lock is free) and whether it looks
 * stale; with --force remove the host lock and every unit lock of the host. Deploys never take over a lock
 * themselves: removing one is this explicit step. (Named `unlock` before `lock` came to mean
 * pinning packages; `unlock` still works as a hidden alias.)
 */
export interface HostLockOptions extends Omit<UnitSource, "selector"> {
  readonly host?: string;
  readonly force?: boolean;
}

export async function hostLockCommand(construct: string | undefined, options: HostLockOptions, io: HostCommandIo): Promise<number> {
  if ((construct === undefined) === (options.host === undefined)) {
    throw errors.hostLockUsage(construct !== undefined);
  }
  const { spec } = construct !== undefined ? await oneUnit(construct, options, io) : await unitOnHost(options.host!, options, io);
  const host = spec.host;
  return onHostOf(spec, io, "webshare host-lock", async (ctx) => {
    // With a construct, its own unit lock first: a unit holds it for its whole run, the host lock not always.
    const unitDir = construct !== undefined ? unitLockDir(host, ownDirOf(spec)) : undefined;
    const unitState = unitDir !== undefined ? await readLock(ctx, unitDir) : { held: false as const };
    const removed = options.force ? await removeHostLock(ctx, host) : undefined;
    const hostState = removed ?? (await readHostLock(ctx, host));
    const alsoUnits = removed !== undefined && removed.unitLocks > 0 ? ` and ${plural(removed.unitLocks, "unit lock")}` : "";
    const [what, dir, state] = unitState.held && !hostState.held ? [`the lock of ${ownDirOf(spec)} (${spec.unit})`, unitDir!, unitState] : ["the host lock", lockDir(host), hostState];
    const where = `${ctx.place.target} (${dir})`;
    if (!state.held) {
      io.write(alsoUnits !== "" ? `removed${alsoUnits.slice(4)} on ${ctx.place.target} (${unitLocksDir(host)}); no deploy held the host lock\n` : `no deploy holds the host lock on ${where}\n`);
      return 0;
    }
    const holder = describeOwner(state.owner, state.raw);
    const verdict = staleness(state.owner, state.ageSeconds, { machine: os.hostname(), isRunning: isRunningLocally }, staleAfterSeconds(io.env));
    const looks = verdict.stale ? `it looks stale: ${verdict.why}` : "its holder may still be running";
    if (options.force) {
      io.write(`removed ${what} on ${where}, held by ${holder} (${looks})${alsoUnits}\n`);
      return 0;
    }
    io.write(`${what} on ${where} is held by ${holder}; ${looks}\nto remove it: ${unlockHint(host)}\n`);
    return 1;
  });
}
