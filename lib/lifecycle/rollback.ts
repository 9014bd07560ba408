import * as path from "node:path";
import type { AppUnitSpec, UnitSpec } from "../spec";
import { probeHost } from "../drift/probe";
import { appPaths, compareKept } from "../drift/compare";
import { restoreKept } from "./kept-restore";
import { listSome } from "../plural";
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
 * venv's freeze.txt (and requirements.txt, when the venv kept a copy) back in place. An app
 * rollback first checks the kept release against its manifest and restores what was edited
 * on the host (or refuses, when the deployed content is gone).
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
  if (spec.kind === "app") await checkKeptRelease(ctx, spec, target, ready.filter((id) => id !== target && id !== state.current));
  await switchVerifyRevert(ctx, rollbackSwitchover(ctx, spec, unit, target, state.current), spec.host);
  await recordRollback(ctx, spec, state.record, state.current, target);
  return { from: state.current, to: target, switched: true };
}

/**
 * A release rollback switches to must hold what was deployed into it: a kept release edited
 * on the host (by hand, or through a hard link shared with the live release by a deploy
 * before releases were copied) is restored from files the host still holds with the
 * deployed content, or else the rollback is refused. It never serves a hand edit.
 */
async function checkKeptRelease(ctx: StepContext, spec: AppUnitSpec, id: string, others: readonly string[]): Promise<void> {
  await ctx.progress.step(
    `check release ${id}`,
    async () => {
      const observed = (await probeHost(ctx.session, ctx.place, spec.host.python, { venvs: [], apps: [{ id: "app", ...appPaths(spec) }] })).apps["app"]!;
      const kept = compareKept(spec, observed).find((k) => k.id === id);
      if (kept === undefined || kept.files.length === 0) return { checked: kept !== undefined, edited: [] as string[] };
      const edited = kept.files.map((f) => `${f.path} ${f.problem}`);
      if (kept.restore.unavailable.length > 0) throw errors.keptReleaseEdited(ctx.place, id, kept.files, kept.restore.unavailable, others);
      await restoreKept(ctx, spec, id, kept.restore);
      return { checked: true, edited, copied: kept.restore.copies.length, removed: kept.restore.remove.length };
    },
    (r) =>
      !r.checked
        ? "(no manifest to compare with)"
        : r.edited.length === 0
          ? "(holds what was deployed)"
          : `(edited on the host since it was deployed: ${listSome(r.edited)}; restored: ${r.copied} copied back from releases on the host, ${r.removed} removed)`,
  );
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
