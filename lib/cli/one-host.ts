import type { UnitSpec } from "../spec";
import { errors } from "../errors";
import { HostSession, targetOf } from "../ssh/session";
import { heartbeatSecondsFrom, Progress } from "../progress";
import type { StepContext } from "../lifecycle/context";
import { loadUnits, UnitSource } from "../stacks/load";
import type { SynthesizedUnit } from "../stacks/read";
import { groupByHost } from "../drift/hosts";
import type { HostCommandIo } from "./drift";

/**
 * What `releases`, `rollback` and `host-lock` share: find units in the synthesized stacks (the
 * desired state, as `drift` reads it) and run steps on one unit's host over one session.
 */

/** Exactly the unit at `path` (or the only one under it). */
export async function oneUnit(path: string, source: Omit<UnitSource, "selector">, io: HostCommandIo): Promise<SynthesizedUnit> {
  const units = await loadUnits({ ...source, selector: path }, io.cwd, io.env);
  const exact = units.find((u) => u.spec.unit === path);
  if (exact !== undefined) return exact;
  if (units.length === 1) return units[0]!;
  throw errors.notOneUnit(path, units.map((u) => u.spec.unit));
}

/** Some unit on the WebshareHost at construct path `hostPath` (for its connection and home). */
export async function unitOnHost(hostPath: string, source: Omit<UnitSource, "selector">, io: HostCommandIo): Promise<SynthesizedUnit> {
  const units = await loadUnits(source, io.cwd, io.env);
  const found = units.find((u) => u.spec.host.name === hostPath);
  if (found === undefined) throw errors.noUnits(`the stacks (hosts: ${[...new Set(units.map((u) => u.spec.host.name))].join(", ")})`, hostPath);
  return found;
}

/** Open one session to the unit's host, run `work`, close it. Progress goes to io.log. */
export async function onHostOf<T>(spec: UnitSpec, io: HostCommandIo, command: string, work: (ctx: StepContext) => Promise<T>): Promise<T> {
  const target = targetOf(spec.host.connection);
  const session = await HostSession.open(spec.host.connection, io.env, io.log);
  try {
    return await work({ session, place: { unit: spec.unit, target }, progress: new Progress(spec.unit, io.log, undefined, { heartbeatSeconds: heartbeatSecondsFrom(io.env) }), instance: command, env: io.env });
  } finally {
    session.dispose();
  }
}

/**
 * Run `work` for every unit, one session per host (units grouped by connection), hosts in
 * parallel and each host's units one after another on its session. Results come back in
 * the order of `units`. A host that cannot be reached rejects; the other hosts' sessions
 * are still closed when their work ends.
 */
export async function onEachHost<T>(units: readonly SynthesizedUnit[], io: HostCommandIo, command: string, work: (ctx: StepContext, unit: SynthesizedUnit) => Promise<T>): Promise<T[]> {
  const results = new Map<SynthesizedUnit, T>();
  await Promise.all(
    groupByHost(units).map(async (group) => {
      const session = await HostSession.open(group.connection, io.env, io.log);
      try {
        for (const unit of group.units) {
          const progress = new Progress(unit.spec.unit, io.log, undefined, { heartbeatSeconds: heartbeatSecondsFrom(io.env) });
          results.set(unit, await work({ session, place: { unit: unit.spec.unit, target: group.target }, progress, instance: command, env: io.env }, unit));
        }
      } finally {
        session.dispose();
      }
    }),
  );
  return units.map((u) => results.get(u)!);
}
