import { errors } from "../errors";
import { loadUnits, UnitSource } from "../stacks/load";
import type { HostCommandIo } from "../host/each-host";
import { fillWheelhouses } from "../wheels/fill";

/**
 * `webshare wheels [CONSTRUCT]`: fill each selected Venv's local wheelhouse with `pip wheel`
 * on this machine (lib/wheels/). Returns 0 when every selected wheelhouse was filled, 1
 * otherwise.
 */
export interface WheelsCommandOptions extends Pick<UnitSource, "app" | "dir"> {
  /** The local interpreter that runs pip. @default "python3" */
  readonly python?: string;
}

export async function wheelsCommand(selector: string | undefined, options: WheelsCommandOptions, io: HostCommandIo): Promise<number> {
  const venvs = (await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env)).flatMap((u) => (u.spec.kind === "venv" ? [u.spec] : []));
  if (venvs.length === 0) throw errors.noUnits("the selected stacks (no Venv)", selector);
  return (await fillWheelhouses(venvs, options.python ?? "python3", io)) ? 0 : 1;
}
