import type { ConnectionSpec, UnitSpec } from "../spec";
import { targetOf } from "../ssh/session";
import type { RemoteSession } from "../ssh/remote-session";
import type { Writer } from "../progress";
import type { StepContext } from "../lifecycle/context";
import type { SynthesizedUnit } from "../stacks/read";
import { groupByHost, HostGroup } from "../drift/hosts";
import { openHostSession } from "./open";
import { stepContext } from "./context";

/**
 * How commands that reach hosts (releases, freeze, rollback, host-lock, lock) run their work:
 * one session per host, opened by openHostSession, each unit's work given a StepContext
 * built by stepContext.
 */

/** I/O of a command that reaches hosts. */
export interface HostCommandIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The report. */
  readonly write: (text: string) => void;
  /** Progress and warnings, one line each (stderr where the report must stay parseable). */
  readonly log: Writer;
}

/** Open one session to `connection`, run `work`, close it, whatever `work` does. */
async function withHostSession<T>(connection: ConnectionSpec, io: Pick<HostCommandIo, "env" | "log">, work: (session: RemoteSession) => Promise<T>): Promise<T> {
  const session = await openHostSession(connection, { env: io.env, warn: io.log });
  try {
    return await work(session);
  } finally {
    session.dispose();
  }
}

/** Open one session to the unit's host, run `work` with its StepContext, close it. Progress goes to io.log. */
export function onHostOf<T>(spec: UnitSpec, io: HostCommandIo, command: string, work: (ctx: StepContext) => Promise<T>): Promise<T> {
  return withHostSession(spec.host.connection, io, (session) => work(stepContext(session, { place: { unit: spec.unit, target: targetOf(spec.host.connection) }, instance: command, env: io.env, progress: io.log })));
}

/**
 * Run `work` for every unit, one session per host (units grouped by connection), hosts in
 * parallel and each host's units one after another on its session. Results come back in
 * the order of `units`. A host that cannot be reached rejects; the other hosts' sessions
 * are still closed when their work ends.
 */
export async function onEachHost<T>(units: readonly SynthesizedUnit[], io: HostCommandIo, command: string, work: (ctx: StepContext, unit: SynthesizedUnit) => Promise<T>): Promise<T[]> {
  const results = new Map<SynthesizedUnit, T>();
  await Promise.all(groupByHost(units).map((group) => withHostSession(group.connection, io, async (session) => {
    for (const unit of group.units) results.set(unit, await work(unitContext(session, group, unit, io, command), unit));
  })));
  return units.map((u) => results.get(u)!);
}

/** The StepContext of one unit of a host group, on that host's session. */
export function unitContext(session: RemoteSession, group: HostGroup, unit: SynthesizedUnit, io: Pick<HostCommandIo, "env" | "log">, command: string): StepContext {
  return stepContext(session, { place: { unit: unit.spec.unit, target: group.target }, instance: command, env: io.env, progress: io.log });
}
