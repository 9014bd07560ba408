import * as path from "node:path";
import type { AppUnitSpec, UnitSpec, VenvUnitSpec } from "../spec";
import { commandLine, quote } from "../shell";
import { errors } from "../errors";
import { abs, StepContext, unitRecordPath, UnitRecord } from "./context";
import { switchSymlinkScript, touchExistingScript } from "./switch";
import { verifyServing, VerifyFailure } from "./verify";
import { errorLogTail } from "./venv";
import { ensureInitRecordScript } from "./serving-record";
import { keptDir, listKept, pathsOf, UnitPaths, VENV_REQUIREMENTS_COPY } from "./kept";
import { neverServed, orderKept, previousOf } from "../releases/model";

/**
 * `webshare rollback`: switch a unit back to a venv or release it still keeps, without
 * building anything: the same atomic symlink switch, touch and verified reload as a deploy,
 * and the same switch back if the old one does not serve. A venv rollback also puts that
 * venv's freeze.txt (and requirements.txt, when the venv kept a copy) back in place.
 * Terraform's state is not changed: the next deploy that changes the unit deploys the
 * desired state again.
 */
export interface RollbackOptions {
  /** Switch to this kept id instead of the previous one (also forward again). */
  readonly to?: string;
}

export interface RollbackResult {
  readonly from?: string;
  readonly to: string;
  /** False when `to` already served: nothing was done. */
  readonly switched: boolean;
}

/** Shell text: copy a file over another in one rename (readers never see half a file). */
function copyAtomicScript(from: string, to: string): string {
  const temp = `${to}.webshare-tmp`;
  return `if [ -f ${quote(from)} ]; then ${commandLine(["cp", from, temp])} && ${commandLine(["mv", "-f", temp, to])}; fi`;
}

export async function rollback(ctx: StepContext, spec: UnitSpec, options: RollbackOptions = {}): Promise<RollbackResult> {
  const unit = pathsOf(spec);
  const state = await ctx.progress.step("list kept", () => listKept(ctx, unit), (s) => `(${orderKept(s).length} ready, ${s.current ?? "none"} serves)`);
  // --to may name any ready dir, also one that never served (it is verified like a deploy).
  const ready = [...orderKept(state), ...neverServed(state)].map((d) => d.id);
  const target = options.to ?? previousOf(state);
  if (options.to !== undefined && !ready.includes(options.to)) throw errors.unknownKept(ctx.place, unit.kind, options.to, ready);
  if (target === undefined) throw errors.noPreviousKept(ctx.place, unit.kind, state.current, ready);
  if (target === state.current) {
    ctx.progress.info(`${target} already serves: nothing to do`);
    return { from: state.current, to: target, switched: false };
  }

  const failure = await switchAndVerify(ctx, spec, unit, target);
  if (failure !== undefined) {
    const log = await errorLogTail(ctx, spec.host);
    let restored = `there was no ${unit.kind === "venv" ? "venv" : "release"} serving before to switch back to`;
    if (state.current !== undefined) {
      await ctx.progress.step("switch back", () => switchOnly(ctx, spec, unit, state.current!), () => `(${unit.link} -> ${state.current})`);
      restored = `switched back to ${state.current}, which served before`;
    }
    throw errors.healthCheckFailed(ctx.place, failure.url, failure.reason, log, restored);
  }
  await recordRollback(ctx, spec, state.record, state.current, target);
  return { from: state.current, to: target, switched: true };
}

/** Switch the link to `id`, restore its venv's records, touch the entry points. */
async function switchOnly(ctx: StepContext, spec: UnitSpec, unit: UnitPaths, id: string): Promise<void> {
  const host = spec.host;
  const link = abs(host, unit.link);
  const dir = keptDir(unit, id);
  const steps = [switchSymlinkScript(link, dir, `${link}.before-webshare-${Date.now()}`)];
  if (spec.kind === "venv") {
    steps.unshift(ensureInitRecordScript(`${dir}/bin/python`));
    steps.push(copyAtomicScript(`${dir}/.webshare-freeze.txt`, abs(host, spec.freezePath)), copyAtomicScript(`${dir}/${VENV_REQUIREMENTS_COPY}`, abs(host, spec.requirementsPath)));
  }
  steps.push(touchExistingScript(entryPoints(spec).map((e) => abs(host, e))));
  await ctx.session.run(ctx.place, "switch", steps.join(" && "));
}

function entryPoints(spec: UnitSpec): string[] {
  return spec.kind === "venv" ? spec.apps.map((a) => a.entryPoint) : [spec.entryPoint];
}

async function switchAndVerify(ctx: StepContext, spec: UnitSpec, unit: UnitPaths, id: string): Promise<VerifyFailure | undefined> {
  await ctx.progress.step(unit.kind === "venv" ? "switch venv" : "switch release", () => switchOnly(ctx, spec, unit, id), () => `(${unit.link} -> ${id}, no rebuild)`);
  return spec.kind === "venv" ? verifyVenv(ctx, spec, id) : verifyApp(ctx, spec, id);
}

async function verifyVenv(ctx: StepContext, spec: VenvUnitSpec, id: string): Promise<VerifyFailure | undefined> {
  for (const app of spec.apps) {
    if (app.healthCheck === undefined) continue;
    const failure = await verifyServing(ctx, app.healthCheck, { venv: id }, { allowUnreporting: true });
    if (failure !== undefined) return failure;
  }
  return undefined;
}

async function verifyApp(ctx: StepContext, spec: AppUnitSpec, id: string): Promise<VerifyFailure | undefined> {
  if (spec.healthCheck === undefined) return undefined;
  // A release deployed before verified reload existed has an entry point that does not report.
  return verifyServing(ctx, spec.healthCheck, { release: id }, { allowUnreporting: true });
}

async function recordRollback(ctx: StepContext, spec: UnitSpec, previous: UnitRecord | undefined, from: string | undefined, to: string): Promise<void> {
  const now = new Date().toISOString();
  const record: UnitRecord = {
    unit: spec.unit,
    kind: spec.kind,
    instance: previous?.instance ?? "unknown",
    current: to,
    deployedAt: previous?.deployedAt ?? now,
    rolledBackFrom: from,
    rolledBackAt: now,
  };
  const file = unitRecordPath(spec.host, spec.unit);
  await ctx.session.run(ctx.place, "record unit", commandLine(["mkdir", "-p", path.posix.dirname(file)]));
  await ctx.session.writeFileAtomic(ctx.place, "record unit", file, JSON.stringify(record, null, 2) + "\n");
}
