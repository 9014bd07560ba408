import { HostSession } from "../ssh/session";
import { WebshareError } from "../errors";
import type { Writer } from "../progress";
import { appPaths, compareApp, compareVenv, venvPaths } from "./compare";
import { fixHost } from "./fix";
import { groupByHost, HostGroup } from "./hosts";
import type { DriftReport, FixOutcome, HostFailure, UnitDrift } from "./model";
import { probeHost, ProbeRequest } from "./probe";
import type { SynthesizedUnit } from "./stacks";

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
}

interface HostOutcome {
  readonly units: UnitDrift[];
  /** When the first check of this host ended (ms since the run started), fixes excluded. */
  readonly checkedAt: number;
  readonly failure?: HostFailure;
  readonly fixes?: FixOutcome[];
  readonly after?: UnitDrift[];
}

function requestOf(group: HostGroup): ProbeRequest {
  const request: ProbeRequest = { venvs: [], apps: [] };
  group.units.forEach((u, i) => {
    if (u.spec.kind === "venv") request.venvs.push({ id: String(i), ...venvPaths(u.spec) });
    else request.apps.push({ id: String(i), ...appPaths(u.spec) });
  });
  return request;
}

async function observe(session: HostSession, group: HostGroup): Promise<UnitDrift[]> {
  const place = { unit: "webshare drift", target: group.target };
  const result = await probeHost(session, place, group.units[0]!.spec.host.python, requestOf(group));
  return group.units.map((u: SynthesizedUnit, i) => {
    const where = { stack: u.stack, target: group.target };
    const id = String(i);
    return u.spec.kind === "venv" ? compareVenv(u.spec, result.venvs[id]!, where) : compareApp(u.spec, result.apps[id]!, where);
  });
}

const message = (e: unknown) => (e instanceof WebshareError ? e.render() : (e as Error).message ?? String(e));

async function checkHost(group: HostGroup, options: DriftOptions, started: number): Promise<HostOutcome> {
  let checkedAt = 0;
  const failed = (e: unknown, units: UnitDrift[] = []): HostOutcome => ({
    units,
    checkedAt: checkedAt || performance.now() - started,
    failure: { target: group.target, units: group.units.map((u) => u.spec.unit), message: message(e) },
  });
  let session: HostSession;
  try {
    session = await HostSession.open(group.connection, options.env, options.log);
  } catch (e) {
    return failed(e);
  }
  try {
    const units = await observe(session, group);
    checkedAt = performance.now() - started;
    if (!options.fix) return { units, checkedAt };
    const targets = group.units.map((unit, i) => ({ unit, drift: units[i]! }));
    const fixes = await fixHost(session, group.target, targets, options.log);
    try {
      const after = fixes.length > 0 ? await observe(session, group) : units;
      return { units, checkedAt, fixes, after };
    } catch (e) {
      return { ...failed(e, units), fixes };
    }
  } catch (e) {
    return failed(e);
  } finally {
    session.dispose();
  }
}

export async function checkDrift(units: readonly SynthesizedUnit[], options: DriftOptions): Promise<DriftReport> {
  const started = performance.now();
  const groups = groupByHost(units);
  const outcomes = await Promise.all(groups.map((g) => checkHost(g, options, started)));
  const report: DriftReport = {
    units: outcomes.flatMap((o) => o.units),
    failures: outcomes.flatMap((o) => (o.failure ? [o.failure] : [])),
    hosts: groups.length,
    seconds: Math.max(0, ...outcomes.map((o) => o.checkedAt)) / 1000,
    ...(options.fix && {
      fixes: outcomes.flatMap((o) => o.fixes ?? []),
      after: outcomes.flatMap((o) => o.after ?? o.units),
    }),
  };
  return report;
}
