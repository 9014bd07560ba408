import * as fs from "node:fs";
import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { errors } from "../errors";
import { commandLine, quote } from "../shell";
import { abs } from "../lifecycle/context";
import { loadUnits, UnitSource } from "../stacks/load";
import type { SynthesizedUnit } from "../stacks/read";
import { HostCommandIo, onEachHost } from "../host/each-host";

/**
 * `webshare freeze [CONSTRUCT | --host HOST] [--out DIR]`: the host's freeze.txt of each
 * selected Venv (what its last deploy or rollback installed), the record a team can use
 * from any checkout or CI job. One SSH connection per host, hosts in parallel. Read only.
 */
export interface FreezeOptions extends Omit<UnitSource, "selector"> {
  readonly host?: string;
  /** Write one file per Venv here (`<DIR>/<construct path>.freeze.txt`) instead of printing. */
  readonly out?: string;
}

export interface FetchedFreeze {
  readonly unit: string;
  readonly target: string;
  /** Home-relative path on the host. */
  readonly freezePath: string;
  /** The file's content; undefined when the host has no such file (never deployed, or deleted). */
  readonly text: string | undefined;
}

const MISSING = "webshare-freeze-missing";

/** Read each Venv's freeze.txt from its host: one session per host, one command per Venv. */
export function fetchFreezes(units: readonly SynthesizedUnit[], io: HostCommandIo): Promise<FetchedFreeze[]> {
  return onEachHost(units, io, "webshare freeze", async (ctx, { spec }) => {
    const venv = spec as VenvUnitSpec;
    const file = abs(venv.host, venv.freezePath);
    const result = await ctx.session.run(ctx.place, "read freeze.txt", `if [ -f ${quote(file)} ]; then ${commandLine(["cat", file])}; else echo ${MISSING}; fi`);
    return { unit: venv.unit, target: ctx.place.target, freezePath: venv.freezePath, text: result.stdout === `${MISSING}\n` ? undefined : result.stdout };
  });
}

/** The file `--out DIR` writes for a Venv: its construct path, so no two Venvs share one. */
export function freezeOutFile(dir: string, unit: string): string {
  return path.join(dir, ...unit.split("/")) + ".freeze.txt";
}

export async function freezeCommand(selector: string | undefined, options: FreezeOptions, io: HostCommandIo): Promise<number> {
  if (selector !== undefined && options.host !== undefined) throw errors.freezeUsage();
  const loaded = await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env);
  const onHost = (u: SynthesizedUnit) => options.host === undefined || u.spec.host.name === options.host.replace(/\/+$/, "") || u.spec.host.name.startsWith(`${options.host.replace(/\/+$/, "")}/`);
  const units = loaded.filter((u) => u.spec.kind === "venv" && onHost(u));
  if (units.length === 0) throw errors.noUnits(`the selected stacks (no Venv${options.host !== undefined ? ` on ${options.host}` : ""})`, selector ?? options.host);
  const freezes = await fetchFreezes(units, io);
  let ok = true;
  const several = freezes.length > 1;
  for (const f of freezes) {
    if (f.text === undefined) {
      ok = false;
      io.log(`ERROR: ${f.unit} on ${f.target}: ${f.freezePath} does not exist (not deployed yet, or deleted: \`webshare drift --fix\` records it again)`);
      continue;
    }
    if (options.out !== undefined) {
      const file = freezeOutFile(path.resolve(io.cwd, options.out), f.unit);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, f.text);
      io.log(`${f.unit}: wrote ${path.relative(io.cwd, file)} (${f.freezePath} on ${f.target})`);
    } else {
      // One Venv: exactly the file, ready to redirect. Several: each behind a comment line (pip ignores it).
      io.write(several ? `# ${f.unit} on ${f.target}: ${f.freezePath}\n${f.text}` : f.text);
    }
  }
  return ok ? 0 : 1;
}
