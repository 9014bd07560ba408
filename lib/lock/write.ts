import * as fs from "node:fs";
import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { errors, errorText } from "../errors";
import type { StepContext } from "../lifecycle/context";
import type { SynthesizedUnit } from "../stacks/read";
import type { RemoteSession } from "../ssh/remote-session";
import { groupByHost, HostGroup } from "../drift/hosts";
import { openHostSession } from "../host/open";
import { HostCommandIo, unitContext } from "../host/each-host";
import { lockDiff, renderLockDiff, renderLockFile } from "./lock-file";
import { resolveOnHost } from "./resolve";
import { installIdentity } from "../install-identity";

/**
 * `webshare lock`'s work: pin each Venv's loose requirements into its lock file, resolved on
 * the Venv's own host (its Python, its wheelhouse or index), and say what changed against
 * the previous lock. One SSH connection per host, hosts in parallel.
 */

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

/** The Venvs of one host over one session; a host or Venv that fails becomes an ERROR line, the rest go on. */
async function lockHost(group: HostGroup, io: HostCommandIo): Promise<{ lines: string[]; ok: boolean }> {
  const venvs = group.units.filter((u) => u.spec.kind === "venv");
  const lines: string[] = [];
  let session: RemoteSession;
  try {
    session = await openHostSession(group.connection, { env: io.env, warn: io.log });
  } catch (e) {
    return { lines: [`ERROR: cannot lock ${venvs.map((v) => v.spec.unit).join(", ")}: ${errorText(e)}`], ok: false };
  }
  let ok = true;
  try {
    for (const unit of venvs) {
      try {
        lines.push(...(await lockOne(unitContext(session, group, unit, io, "webshare-lock"), unit.spec as VenvUnitSpec, io)));
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

/** Lock every Venv among `units`, hosts in parallel; `ok` when every lock was written (or already right). */
export async function lockVenvs(units: readonly SynthesizedUnit[], io: HostCommandIo): Promise<{ lines: string[]; ok: boolean }> {
  const results = await Promise.all(groupByHost(units.filter((u) => u.spec.kind === "venv")).map((g) => lockHost(g, io)));
  return { lines: results.flatMap((r) => r.lines), ok: results.every((r) => r.ok) };
}
