import { errors } from "../errors";
import { loadUnits, UnitSource } from "../stacks/load";
import type { HostCommandIo } from "../host/each-host";
import { lockVenvs } from "../lock/write";

/**
 * `webshare lock [CONSTRUCT]`: pin each selected Venv's requirements into its lock file,
 * resolved on its own host (lib/lock/write.ts), and print what changed. Returns 0 when
 * every lock was written, 1 otherwise.
 */
export type LockCommandOptions = Pick<UnitSource, "app" | "dir">;

export async function lockCommand(selector: string | undefined, options: LockCommandOptions, io: HostCommandIo): Promise<number> {
  const units = (await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env)).filter((u) => u.spec.kind === "venv");
  if (units.length === 0) throw errors.noUnits("the selected stacks (no Venv)", selector);
  const result = await lockVenvs(units, io);
  io.write(`${result.lines.join("\n")}\n`);
  return result.ok ? 0 : 1;
}
