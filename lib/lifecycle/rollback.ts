import * as path from "node:path";
import type { UnitSpec } from "../spec";
import { commandLine } from "../shell";
import { errors } from "../errors";
import { StepContext, unitRecordPath, UnitRecord } from "./context";
import { recordOwnership } from "./inventory";
import { keptDir, listKept, pathsOf, UnitPaths } from "./kept";
import { releaseLinkScript, restartWedged, Switchover, switchVerifyRevert, touchedSet, touchEntryPointScript, venvSwitchScript, verifyRelease, verifyVenv } from "./unit-switch";
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
  await switchVerifyRevert(ctx, rollbackSwitchover(ctx, spec, unit, target, state.current), spec.host);
  await recordRollback(ctx, spec, state.record, state.current, target);
  return { from: state.current, to: target, switched: true };
}

/** Switch to a kept dir (no rebuild), verify it like a deploy, and go back to `current` (proven serving) if it does not serve. */
function rollbackSwitchover(ctx: StepContext, spec: UnitSpec, unit: UnitPaths, id: string, current: string | undefined): Switchover {
  const switchScript = (to: string) => (spec.kind === "venv" ? venvSwitchScript(spec, keptDir(unit, to)) : `${releaseLinkScript(spec, keptDir(unit, to))} && ${touchEntryPointScript(spec)}`);
  // A release deployed before verified reload existed has an entry point that does not report.
  const verify = (to: string) => (spec.kind === "venv" ? verifyVenv(ctx, spec, to, touched) : verifyRelease(ctx, spec, to, true));
  let touched = new Set<string>();
  return {
    noun: spec.kind === "venv" ? "venv" : "release",
    link: unit.link,
    to: `${id}, no rebuild`,
    back: current,
    switchIn: async () => {
      touched = touchedSet((await ctx.session.run(ctx.place, "switch", switchScript(id))).stdout);
    },
    verify: () => verify(id),
    ...(current !== undefined && { backScript: switchScript(current) }),
    verifyBack: () => verify(current!),
    restartWedged: () => restartWedged(ctx, spec.host),
  };
}

async function recordRollback(ctx: StepContext, spec: UnitSpec, previous: UnitRecord | undefined, from: string | undefined, to: string): Promise<void> {
  const now = new Date().toISOString();
  const record: UnitRecord = {
    unit: spec.unit,
    kind: spec.kind,
    instance: previous?.instance ?? "unknown",
    current: to,
    deployedAt: previous?.deployedAt ?? now,
    // Kept: the newest code this host served came from it, and a checkout behind it is still refused.
    ...(previous?.commit !== undefined && { commit: previous.commit }),
    rolledBackFrom: from,
    rolledBackAt: now,
    ...recordOwnership(spec),
  };
  const file = unitRecordPath(spec.host, spec.unit);
  await ctx.session.run(ctx.place, "record unit", commandLine(["mkdir", "-p", path.posix.dirname(file)]));
  await ctx.session.writeFileAtomic(ctx.place, "record unit", file, JSON.stringify(record, null, 2) + "\n");
}
