import * as fs from "node:fs";
import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { errors, errorText } from "../errors";
import { HostSession } from "../ssh/session";
import { Progress } from "../progress";
import type { StepContext } from "../lifecycle/context";
import { groupByHost, HostGroup } from "../drift/hosts";
import { loadUnits, UnitSource } from "../stacks/load";
import type { HostCommandIo } from "./drift";
import { lockDiff, renderLockDiff, renderLockFile } from "../lock/lock-file";
import { resolveOnHost } from "../lock/resolve";
import { installIdentity } from "../install-identity";

/**
 * `webshare lock [CONSTRUCT]`: pin each Venv's loose requirements into its lock file,
 * resolved on the Venv's own host (its Python, its wheelhouse or index), and print what
 * changed against the previous lock. One SSH connection per host, hosts in parallel.
 * Returns 0 when every lock was written, 1 otherwise.
 */
export type LockCommandOptions = Pick<UnitSource, "app" | "dir">;

/** Where the lock goes: the Venv's `lock`, else `requirements.lock` beside its requirements. */
export function lockPathOf(spec: VenvUnitSpec): { file: string; configured: boolean } {
  if (spec.lockFile !== undefined) return { file: spec.lockFile, configured: true };
  return { file: path.join(path.dirname(spec.requirementsFile!), "requirements.lock"), configured: false };
}

/** Lock one Venv: resolve on its host, then write the lock unless it already pins exactly that. */
export async function lockOne(ctx: StepContext, spec: VenvUnitSpec, io: Pick<HostCommandIo, "cwd">): Promise<string[]> {
  if (spec.requirementsFile === undefined) throw errors.nothingToLock(spec.unit);
  const requirementsPath = path.resolve(io.cwd, spec.requirementsFile);
  if (!fs.existsSync(requirementsPath)) throw errors.localFileMissing(ctx.place, "requirements file", spec.requirementsFile);
  const resolution = await resolveOnHost(ctx, spec, fs.readFileSync(requirementsPath, "utf8"));

  const { file, configured } = lockPathOf(spec);
  const lockPath = path.resolve(io.cwd, file);
  const previous = fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : undefined;
  const next = renderLockFile(resolution.freeze, spec.requirementsFile, resolution.python);
  // Same pins (by meaning: comments, order and spelling aside): leave the file, its mtime and the venv id alone.
  if (previous !== undefined && installIdentity(previous) === installIdentity(next)) {
    return [`${spec.unit}: ${file} unchanged (resolved on ${ctx.place.target} by Python ${resolution.python})`, ...renderLockDiff(lockDiff(previous, next), true)];
  }
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  fs.writeFileSync(lockPath, next);
  const lines = [`${spec.unit}: ${previous === undefined ? "wrote" : "updated"} ${file} (resolved on ${ctx.place.target} by Python ${resolution.python})`, ...renderLockDiff(lockDiff(previous, next), previous !== undefined)];
  if (!configured) lines.push(`  note: this Venv has no lock yet; add  lock: "${file}"  to its props so deploys install exactly these versions`);
  return lines;
}

async function lockHost(group: HostGroup, io: HostCommandIo): Promise<{ lines: string[]; ok: boolean }> {
  const venvs = group.units.filter((u) => u.spec.kind === "venv").map((u) => u.spec as VenvUnitSpec);
  const lines: string[] = [];
  let session: HostSession;
  try {
    session = await HostSession.open(group.connection, io.env, io.log);
  } catch (e) {
    return { lines: [`ERROR: cannot lock ${venvs.map((v) => v.unit).join(", ")}: ${errorText(e)}`], ok: false };
  }
  let ok = true;
  try {
    for (const spec of venvs) {
      const ctx: StepContext = { session, place: { unit: spec.unit, target: group.target }, progress: new Progress(spec.unit, io.log), instance: "webshare-lock", env: io.env };
      try {
        lines.push(...(await lockOne(ctx, spec, io)));
      } catch (e) {
        ok = false;
        lines.push(`ERROR: ${errorText(e)}`);
      }
    }
  } finally {
    session.dispose();
  }
  return { lines, ok };
}

export async function lockCommand(selector: string | undefined, options: LockCommandOptions, io: HostCommandIo): Promise<number> {
  const units = (await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env)).filter((u) => u.spec.kind === "venv");
  if (units.length === 0) throw errors.noUnits("the selected stacks (no Venv)", selector);
  const results = await Promise.all(groupByHost(units).map((g) => lockHost(g, io)));
  io.write(`${results.flatMap((r) => r.lines).join("\n")}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}
