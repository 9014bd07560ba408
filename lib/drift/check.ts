import type { RemoteSession } from "../ssh/remote-session";
import { errorText } from "../errors";
import type { Writer } from "../progress";
import { appPaths, compareApp, compareVenv, venvPaths } from "./compare";
import { fixHost } from "./fix";
import { groupByHost, HostGroup } from "./hosts";
import type { DriftReport, FixOutcome, HostFailure, OrphanDrift, UnitDrift } from "./model";
import { findOrphans } from "./orphans";
import { recordsDir } from "../lifecycle/inventory";
import { probeHost, ProbeRequest } from "./probe";
import type { SynthesizedUnit } from "../stacks/read";
import type { Checkout } from "../checkout";
import { openHostSession } from "../host/open";

/**
 * Check (and with --fix, repair) every unit: one SSH connection per host, hosts in
 * parallel, one probe round trip per host (plus one more after fixing). A host that cannot
 * be reached or read becomes a failure naming it; the other hosts are still checked.
 */
export interface DriftOptions {
  readonly fix: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines of fixes and warnings (host-key opt-out). */
  readonly log: Writer;
  /** The checkout a fix deploys from, recorded with the units it redeploys (lib/checkout.ts). */
  readonly checkout?: Checkout;
}

/** One host after the check: its session stays open for the fixes. */
interface CheckedHost {
  readonly group: HostGroup;
  readonly session?: RemoteSession;
  readonly units: UnitDrift[];
  readonly orphans: OrphanDrift[];
  /** When its check ended (ms since the run started). */
  readonly checkedAt: number;
  readonly failure?: HostFailure;
}

interface FixedHost {
  readonly fixes: FixOutcome[];
  readonly after: UnitDrift[];
  readonly failure?: HostFailure;
}

function requestOf(group: HostGroup): ProbeRequest {
  const request: ProbeRequest = { venvs: [], apps: [], records: recordsDir(group.units[0]!.spec.host) };
  group.units.forEach((u, i) => {
    if (u.spec.kind === "venv") request.venvs.push({ id: String(i), ...venvPaths(u.spec) });
    else request.apps.push({ id: String(i), ...appPaths(u.spec) });
  });
  return request;
}

async function observe(session: RemoteSession, group: HostGroup): Promise<{ units: UnitDrift[]; orphans: OrphanDrift[] }> {
  const place = { unit: "webshare drift", target: group.target };
  const result = await probeHost(session, place, group.units[0]!.spec.host.python, requestOf(group));
  const units = group.units.map((u: SynthesizedUnit, i) => {
    const where = { stack: u.stack, target: group.target };
    const id = String(i);
    return u.spec.kind === "venv" ? compareVenv(u.spec, result.venvs[id]!, where) : compareApp(u.spec, result.apps[id]!, where);
  });
  return { units, orphans: findOrphans(group.units, result.records ?? [], group.target) };
}

function failure(group: HostGroup, e: unknown): HostFailure {
  return { target: group.target, units: group.units.map((u) => u.spec.unit), message: errorText(e) };
}

async function checkHost(group: HostGroup, options: DriftOptions, started: number): Promise<CheckedHost> {
  let session: RemoteSession | undefined;
  try {
    session = await openHostSession(group.connection, { env: options.env, warn: options.log });
    const { units, orphans } = await observe(session, group);
    return { group, session, units, orphans, checkedAt: performance.now() - started };
  } catch (e) {
    session?.dispose();
    return { group, units: [], orphans: [], checkedAt: performance.now() - started, failure: failure(group, e) };
  }
}

async function fixAndRecheck(host: CheckedHost, options: DriftOptions): Promise<FixedHost> {
  if (host.session === undefined) return { fixes: [], after: [] };
  const targets = host.group.units.map((unit, i) => ({ unit, drift: host.units[i]! }));
  const fixes = await fixHost(host.session, host.group.target, targets, options.log, options.env, options.checkout);
  if (fixes.length === 0) return { fixes, after: host.units };
  try {
    return { fixes, after: (await observe(host.session, host.group)).units };
  } catch (e) {
    return { fixes, after: [], failure: failure(host.group, e) };
  }
}

/**
 * Check every host in parallel; `onChecked` gets the report before any fix starts (so a
 * terminal shows what drifted first). With `fix`, then fix and re-check each host.
 */
export async function checkDrift(units: readonly SynthesizedUnit[], options: DriftOptions, onChecked?: (report: DriftReport) => void): Promise<DriftReport> {
  const started = performance.now();
  const groups = groupByHost(units);
  const checked = await Promise.all(groups.map((g) => checkHost(g, options, started)));
  try {
    const report: DriftReport = {
      units: checked.flatMap((h) => h.units),
      failures: checked.flatMap((h) => (h.failure ? [h.failure] : [])),
      hosts: groups.length,
      orphans: checked.flatMap((h) => h.orphans),
      seconds: Math.max(0, ...checked.map((h) => h.checkedAt)) / 1000,
    };
    onChecked?.(report);
    if (!options.fix) return report;
    const fixed = await Promise.all(checked.map((h) => fixAndRecheck(h, options)));
    const afterFailures = fixed.flatMap((f) => (f.failure ? [f.failure] : []));
    return { ...report, fixes: fixed.flatMap((f) => f.fixes), after: fixed.flatMap((f) => f.after), ...(afterFailures.length > 0 && { afterFailures }) };
  } finally {
    for (const h of checked) h.session?.dispose();
  }
}
