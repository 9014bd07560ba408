import type { ConnectionSpec } from "../spec";
import { stableStringify } from "../hash";
import { targetOf } from "../ssh/session";
import type { SynthesizedUnit } from "../stacks/read";

/**
 * Units grouped by the SSH connection that reaches them, so each host gets exactly one
 * connection however many stacks and units name it. Pure.
 */
export interface HostGroup {
  /** `user@host:port`, for messages. */
  readonly target: string;
  readonly connection: ConnectionSpec;
  readonly units: SynthesizedUnit[];
}

export function groupByHost(units: readonly SynthesizedUnit[]): HostGroup[] {
  const groups = new Map<string, HostGroup>();
  for (const unit of units) {
    const connection = unit.spec.host.connection;
    const key = stableStringify(connection);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { target: targetOf(connection), connection, units: [] }));
    group.units.push(unit);
  }
  return [...groups.values()];
}
