import type { AppUnitSpec, HostSpec, UnitSpec, VenvUnitSpec } from "../spec";
import { commandLine } from "../shell";
import { errors, errorText, WebshareError } from "../errors";
import type { RemoteSession } from "../ssh/remote-session";
import type { Writer } from "../progress";
import { stepContext } from "../host/context";
import { abs, StepContext } from "../lifecycle/context";
import { acquireHostLock, HeldLock, lockDir, ownDirOf } from "../lifecycle/host-lock";
import { deployVenv } from "../lifecycle/venv";
import { errorLogTail } from "../lifecycle/verify";
import { freezeScript } from "../lifecycle/freeze-record";
import { appAsPlanned } from "../lifecycle/as-planned";
import { deployApp, installApacheConfig } from "../lifecycle/app";
import { waitForHealthy } from "../lifecycle/health";
import type { AppDrift, FixOutcome, UnitDrift } from "./model";
import { restoreKept, retireKept } from "../lifecycle/kept-restore";
import { listSome, plural } from "../plural";
import type { SynthesizedUnit } from "../stacks/read";
import type { Checkout } from "../checkout";

/**
 * `webshare drift --fix`: make each drifted unit match its desired state again with the
 * deploy's own steps, under the host lock, and leave every unit that did not drift alone.
 * A drifted venv or release is rebuilt BESIDE the live one and switched in atomically (its
 * own directory is the drifted one); a stale freeze.txt is re-recorded from the live venv;
 * a changed Apache config is installed again (self-managed: config-tested first); a kept
 * release edited on the host is restored from files the host still holds (or retired).
 */
export interface FixTarget {
  readonly unit: SynthesizedUnit;
  readonly drift: UnitDrift;
}

const INSTANCE = "webshare-drift-fix";

/** Venvs before apps: an app's fix health-checks against its venv. */
function fixOrder(targets: readonly FixTarget[]): FixTarget[] {
  return targets.filter((t) => t.drift.fix !== "none").sort((a, b) => (a.drift.kind === b.drift.kind ? 0 : a.drift.kind === "venv" ? -1 : 1));
}

async function rewriteFreeze(ctx: StepContext, spec: VenvUnitSpec): Promise<void> {
  const python = `${abs(spec.host, spec.venvPath)}/bin/python`;
  await ctx.progress.step("record pip freeze", async () => {
    const freeze = await ctx.session.run(ctx.place, "record pip freeze", freezeScript(python));
    await ctx.session.writeFileAtomic(ctx.place, "write freeze.txt", abs(spec.host, spec.freezePath), freeze.stdout);
  }, () => `(${spec.freezePath} from the live venv)`);
}

async function reinstallApacheConfig(ctx: StepContext, spec: AppUnitSpec): Promise<void> {
  // The desired state is the synthesized spec: the as-planned check refuses inputs edited since.
  const change = await installApacheConfig(ctx, spec, appAsPlanned(ctx, spec, errors.localInputChanged).apacheConfig);
  if (!change.changed) return;
  const apache = spec.host.apache;
  if (apache.mode === "self") await ctx.progress.step("reload Apache", () => ctx.session.run(ctx.place, "reload Apache", commandLine(apache.reloadCommand)));
  const check = spec.healthCheck;
  if (check === undefined) return;
  const failure = await ctx.progress.step("health check", () => waitForHealthy(check.url, check.expectStatus, check.timeoutSeconds), (r) => `(${check.url} ${r === undefined ? "OK" : "FAILED"})`);
  if (failure !== undefined) throw errors.healthCheckFailed(ctx.place, check.url, failure, await errorLogTail(ctx, spec.host), "the desired Apache config stays installed");
}

/**
 * Restore each edited kept release of an app (the ones rollback may switch to) from files
 * the host holds with the deployed content; one whose content is gone is retired (no longer
 * ready, so rollback never offers it) and named in the error this throws after the rest.
 * Runs before the app's own fix, while the sources the check saw are all still there.
 */
async function restoreKeptReleases(ctx: StepContext, spec: AppUnitSpec, drift: AppDrift): Promise<void> {
  const lost: string[] = [];
  for (const k of (drift.kept ?? []).filter((k) => k.files.length > 0)) {
    if (k.restore.unavailable.length > 0) {
      await ctx.progress.step(`retire kept release ${k.id}`, () => retireKept(ctx, k.restore.dir), () => "(cannot be restored; rollback no longer offers it)");
      lost.push(`${k.id} (${listSome(k.restore.unavailable)})`);
      continue;
    }
    await ctx.progress.step(`restore kept release ${k.id}`, () => restoreKept(ctx, spec, k.id, k.restore), () => `(${plural(k.restore.copies.length, "file")} copied back from releases on the host, ${k.restore.remove.length} removed)`);
  }
  if (lost.length > 0) throw errors.keptReleasesRetired(ctx.place, lost);
}

async function apply(ctx: StepContext, spec: UnitSpec, drift: UnitDrift): Promise<void> {
  const action = drift.fix;
  if (spec.kind === "app" && drift.kind === "app") {
    await restoreKeptReleases(ctx, spec, drift);
    if (action === "restore-kept-releases") return;
  }
  // The desired state is the synthesized spec: the as-planned check refuses inputs edited since.
  if (spec.kind === "venv" && action === "rebuild-venv") return deployVenv(ctx, spec, { forceRebuild: true, changedError: errors.localInputChanged });
  if (spec.kind === "venv" && action === "rewrite-freeze") return rewriteFreeze(ctx, spec);
  if (spec.kind === "app" && action === "redeploy-app") return deployApp(ctx, spec, { forceRebuild: true, changedError: errors.localInputChanged });
  if (spec.kind === "app" && action === "reinstall-apache-config") return reinstallApacheConfig(ctx, spec);
  if (action !== "none") throw new WebshareError(`${spec.unit}: no fix "${action}" for a ${spec.kind}`);
}

/** Fix the drifted units of one host over its open session; one failure does not stop the rest. */
export async function fixHost(session: RemoteSession, target: string, targets: readonly FixTarget[], write: Writer, env: NodeJS.ProcessEnv, checkout?: Checkout): Promise<FixOutcome[]> {
  const ordered = fixOrder(targets);
  if (ordered.length === 0) return [];
  const lockCtx = stepContext(session, { place: { unit: "webshare drift --fix", target }, label: "drift --fix", progress: write, instance: INSTANCE, env });
  // Per host home (units of one connection normally share it): the unit locks of the units
  // it fixes (a deploy of one may be building without the host lock), then the host lock.
  const homes = new Map<string, { host: HostSpec; units: string[] }>();
  for (const t of ordered) {
    const home = homes.get(lockDir(t.unit.spec.host)) ?? { host: t.unit.spec.host, units: [] };
    home.units.push(ownDirOf(t.unit.spec));
    homes.set(lockDir(t.unit.spec.host), home);
  }
  const locks: HeldLock[] = [];
  const outcomes: FixOutcome[] = [];
  try {
    for (const { host, units } of homes.values()) locks.push(await acquireHostLock(lockCtx, host, units));
    for (const { unit, drift } of ordered) {
      const ctx = stepContext(session, { place: { unit: unit.spec.unit, target }, progress: write, instance: INSTANCE, env, ...(checkout !== undefined && { checkout }) });
      try {
        await apply(ctx, unit.spec, drift);
        outcomes.push({ unit: unit.spec.unit, target, action: drift.fix, ok: true });
      } catch (e) {
        outcomes.push({ unit: unit.spec.unit, target, action: drift.fix, ok: false, message: errorText(e) });
      }
    }
  } finally {
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined);
  }
  return outcomes;
}
