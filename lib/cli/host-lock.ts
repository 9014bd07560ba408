import * as os from "node:os";
import type { UnitSource } from "../stacks/load";
import { errors } from "../errors";
import { lockDir, readHostLock, removeHostLock, unlockHint } from "../lifecycle/host-lock";
import { describeOwner, isRunningLocally, staleAfterSeconds, staleness } from "../lifecycle/lock-owner";
import { HostCommandIo, onHostOf } from "../host/each-host";
import { oneUnit, unitOnHost } from "../stacks/select";

/**
 * `webshare host-lock <construct> | --host <host construct> [--force]`: show who holds the host
 * lock and whether it looks stale; with --force remove it. Deploys never take over a lock
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
    const state = options.force ? await removeHostLock(ctx, host) : await readHostLock(ctx, host);
    const where = `${ctx.place.target} (${lockDir(host)})`;
    if (!state.held) {
      io.write(`no deploy holds the host lock on ${where}\n`);
      return 0;
    }
    const holder = describeOwner(state.owner, state.raw);
    const verdict = staleness(state.owner, state.ageSeconds, { machine: os.hostname(), isRunning: isRunningLocally }, staleAfterSeconds(io.env));
    const looks = verdict.stale ? `it looks stale: ${verdict.why}` : "its holder may still be running";
    if (options.force) {
      io.write(`removed the host lock on ${where}, held by ${holder} (${looks})\n`);
      return 0;
    }
    io.write(`the host lock on ${where} is held by ${holder}; ${looks}\nto remove it: ${unlockHint(host)}\n`);
    return 1;
  });
}
