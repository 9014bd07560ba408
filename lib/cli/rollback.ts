import type { UnitSource } from "../stacks/load";
import { acquireHostLock, ownDirOf } from "../lifecycle/host-lock";
import { rollback } from "../lifecycle/rollback";
import { HostCommandIo, onHostOf } from "../host/each-host";
import { oneUnit } from "../stacks/select";

/**
 * `webshare rollback <construct> [--to ID]`: switch one Venv or WsgiApp back to the venv or
 * release deployed before the current one (or to ID), under the unit's lock and the host lock, with the same
 * verified reload as a deploy. Never rebuilds; refuses when nothing is kept to go back to.
 */
export interface RollbackCommandOptions extends Omit<UnitSource, "selector" | "requireDeployed"> {
  readonly to?: string;
  /** false: act from this checkout without comparing it with the deployed state (--no-state-check). */
  readonly stateCheck?: boolean;
}

export async function rollbackCommand(path: string, options: RollbackCommandOptions, io: HostCommandIo): Promise<number> {
  const { spec } = await oneUnit(path, { app: options.app, dir: options.dir, ...(options.stateCheck === false ? {} : { requireDeployed: "webshare rollback" }) }, io);
  const started = performance.now();
  const result = await onHostOf(spec, io, "webshare rollback", async (ctx) => {
    const lock = await acquireHostLock(ctx, spec.host, [ownDirOf(spec)]);
    try {
      return await rollback(ctx, spec, { to: options.to });
    } finally {
      await lock.release();
    }
  });
  const what = spec.kind === "venv" ? "venv" : "release";
  if (!result.switched) {
    io.write(`${spec.unit}: ${what} ${result.to} already serves; nothing changed\n`);
    return 0;
  }
  io.write(
    [
      `${spec.unit}: ${options.to === undefined ? "rolled back" : "switched"} from ${what} ${result.from ?? "(none)"} to ${result.to} in ${((performance.now() - started) / 1000).toFixed(1)}s, without rebuilding.`,
      ...(result.from !== undefined ? [`To switch back: webshare rollback ${spec.unit} --to ${result.from}`] : []),
      "Terraform still records the desired state: the next cdktf deploy that changes this unit deploys it again (an unchanged deploy does not touch the host).",
      "",
    ].join("\n"),
  );
  return 0;
}
