import { removalSpecOf } from "../spec";
import { InventorySpec, ownedBy } from "../inventory-spec";
import { planPrune, RecordFile } from "../lifecycle/inventory";
import type { OrphanDrift } from "./model";
import type { SynthesizedUnit } from "../stacks/read";

/**
 * Units recorded on a host that no synthesized stack declares (pure): what the inventory of
 * each WebshareHost would remove (lifecycle/inventory.ts's planPrune, the same rules).
 */

/** One inventory per WebshareHost of a host's units, as its `prune` resource lists them. */
export function inventoriesOf(units: readonly SynthesizedUnit[]): InventorySpec[] {
  const byHost = new Map<string, SynthesizedUnit[]>();
  for (const u of units) byHost.set(u.spec.host.name, [...(byHost.get(u.spec.host.name) ?? []), u]);
  return [...byHost.values()].map((list) => ({
    kind: "inventory",
    specVersion: 1,
    unit: `${list[0]!.spec.host.name}/inventory`,
    host: list[0]!.spec.host,
    units: list.map((u) => ({ unit: u.spec.unit, kind: u.spec.kind, owns: ownedBy(removalSpecOf(u.spec)) })),
  }));
}

export function findOrphans(units: readonly SynthesizedUnit[], records: readonly RecordFile[], target: string): OrphanDrift[] {
  const declared = new Set(units.map((u) => u.spec.unit));
  const seen = new Set<string>();
  const orphans: OrphanDrift[] = [];
  for (const inventory of inventoriesOf(units)) {
    for (const o of planPrune(inventory, records)) {
      if (declared.has(o.unit) || seen.has(o.record)) continue;
      seen.add(o.record);
      orphans.push({
        unit: o.unit,
        kind: o.kind,
        target,
        host: inventory.host.name,
        record: o.record,
        ...(o.apacheConfig !== undefined && { apacheConfig: o.apacheConfig }),
        paths: [...o.links, ...o.contentDirs, ...o.files],
      });
    }
  }
  return orphans;
}
