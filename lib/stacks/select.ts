import { errors } from "../errors";
import { loadUnits, UnitSource } from "./load";
import type { SynthesizedUnit } from "./read";

/** Where a command runs: its directory and environment. */
export interface CommandPlace {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Exactly the unit at `path` (or the only one under it). */
export async function oneUnit(path: string, source: Omit<UnitSource, "selector">, at: CommandPlace): Promise<SynthesizedUnit> {
  const units = await loadUnits({ ...source, selector: path }, at.cwd, at.env);
  const exact = units.find((u) => u.spec.unit === path);
  if (exact !== undefined) return exact;
  if (units.length === 1) return units[0]!;
  throw errors.notOneUnit(path, units.map((u) => u.spec.unit));
}

/** Some unit on the WebshareHost at construct path `hostPath` (for its connection and home). */
export async function unitOnHost(hostPath: string, source: Omit<UnitSource, "selector">, at: CommandPlace): Promise<SynthesizedUnit> {
  const units = await loadUnits(source, at.cwd, at.env);
  const found = units.find((u) => u.spec.host.name === hostPath);
  if (found === undefined) throw errors.noUnits(`the stacks (hosts: ${[...new Set(units.map((u) => u.spec.host.name))].join(", ")})`, hostPath);
  return found;
}
