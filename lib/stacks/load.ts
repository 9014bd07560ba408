import * as path from "node:path";
import { errors } from "../errors";
import { readSynthesizedUnits, selectUnits, SynthesizedUnit } from "./read";
import { synthesize } from "../cdktf/synth";
import { engineBinary } from "../cdktf/engine";
import { requireDeployedAsSynthesized } from "../cdktf/deployed-state";

/**
 * The units a command works on: from a fresh synth of `--app` (in a temp dir), or from the
 * existing output directory (`--dir`, default cdktf.out), optionally narrowed to a construct
 * path. No units at all is an error: a typo must not read as "no drift".
 */
export interface UnitSource {
  readonly app?: string;
  readonly dir?: string;
  readonly selector?: string;
  /**
   * Refuse (naming this command) unless the selected units are deployed exactly as
   * synthesized: compared with the stack's state before anything touches a host.
   */
  readonly requireDeployed?: string;
}

export async function loadUnits(source: UnitSource, cwd: string, env: NodeJS.ProcessEnv): Promise<SynthesizedUnit[]> {
  if (source.app !== undefined) {
    const synth = await synthesize(source.app, cwd, env);
    try {
      return await checked(source, synth.outdir, pick(readSynthesizedUnits(synth.outdir), `the stacks of ${JSON.stringify(source.app)}`, source.selector), env);
    } finally {
      synth.cleanup();
    }
  }
  const dir = path.resolve(cwd, source.dir ?? "cdktf.out");
  return checked(source, dir, pick(readSynthesizedUnits(dir), dir, source.selector), env);
}

async function checked(source: UnitSource, outdir: string, units: SynthesizedUnit[], env: NodeJS.ProcessEnv): Promise<SynthesizedUnit[]> {
  if (source.requireDeployed !== undefined) await requireDeployedAsSynthesized(source.requireDeployed, outdir, units, engineBinary(env), env);
  return units;
}

function pick(units: SynthesizedUnit[], where: string, selector: string | undefined): SynthesizedUnit[] {
  const selected = selectUnits(units, selector);
  if (selected.length === 0) throw errors.noUnits(where, units.length === 0 ? undefined : selector);
  return selected;
}
