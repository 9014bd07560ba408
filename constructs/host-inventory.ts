import { Construct } from "constructs";
import { dependable, Lazy, TerraformResource } from "../lib/cdk";
import { NullResource } from "./null-resource";
import type { HostSpec } from "../lib/spec";
import { SPEC_VERSION, splitConnection } from "../lib/spec";
import { InventoryEntry, InventorySpec } from "../lib/inventory-spec";
import { contentId, stableStringify } from "../lib/hash";
import { escapeTemplate, escapeTemplates } from "../lib/template-escape";
import type { LifecycleResource } from "./webshare-host";
import { TerraformData } from "./terraform-data";
import { CREATE, DESTROY, provisioner } from "./unit-resource";

/**
 * The host's inventory as two resources, both depending on every unit's `deploy`:
 *
 * - `prune`: its input lists the host's units and the paths each owns; it is replaced when
 *   that list changes (a unit added, removed, renamed, or moved), and its create-time
 *   provisioner, which runs after the units deployed, removes every unit the host records
 *   for this WebshareHost that is not listed. The engine runs no destroy provisioner for a
 *   unit whose block left the configuration, so without it a removed app kept serving.
 * - `cleanup`: lists no unit and only has a destroy-time provisioner, so a `cdktf destroy` of
 *   the stack removes every recorded unit of this WebshareHost, also one whose block left
 *   the configuration before the destroy. Like a unit's `remove`, it lives as long as the host.
 *
 * A change inside a unit does not touch either, so a no-op or app-only deploy runs no inventory.
 */
export class HostInventory extends Construct {
  private readonly entries: (() => InventoryEntry)[] = [];
  private readonly resources: TerraformResource[];

  constructor(scope: Construct, id: string, kind: LifecycleResource, host: () => HostSpec) {
    super(scope, id);
    const spec = (units: InventoryEntry[]): InventorySpec => ({ kind: "inventory", specVersion: SPEC_VERSION, unit: this.node.path, host: host(), units });
    const listed = () => spec(this.entries.map((e) => e()).sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0)));
    // Like a unit's: the plan holds no per-machine connection settings; they come through the environment.
    const planned = (s: InventorySpec) => splitConnection(s).planned;
    const connection = Lazy.stringValue({ produce: () => escapeTemplate(stableStringify(splitConnection(spec([])).local)) });
    const env = (unit: string) => ({ WEBSHARE_UNIT: unit, WEBSHARE_CONNECTION: connection });
    // The prune reruns when the list changes, not when only the connection settings do.
    const key = (s: InventorySpec) => contentId({ ...s, host: { ...s.host, connection: undefined } });
    const lazy = <T>(produce: () => T) => Lazy.anyValue({ produce: () => escapeTemplates(produce()) }) as unknown as T;

    if (kind === "null_resource") {
      this.resources = [
        new NullResource(this, "prune", {
          triggers: lazy(() => ({ spec: stableStringify(planned(listed())), inventory: key(listed()) })),
          provisioners: [provisioner(this, CREATE, env("${self.triggers.spec}"))],
        }),
        new NullResource(this, "cleanup", {
          triggers: lazy(() => ({ spec: stableStringify(planned(spec([]))) })),
          provisioners: [provisioner(this, DESTROY, env("${self.triggers.spec}"), "destroy")],
        }),
      ];
      return;
    }
    this.resources = [
      new TerraformData(this, "prune", {
        input: lazy(() => planned(listed()) as unknown as Record<string, unknown>),
        triggersReplace: lazy(() => ({ inventory: key(listed()) })),
        provisioners: [provisioner(this, CREATE, env("${jsonencode(self.input)}"))],
      }),
      new TerraformData(this, "cleanup", {
        input: lazy(() => planned(spec([])) as unknown as Record<string, unknown>),
        provisioners: [provisioner(this, DESTROY, env("${jsonencode(self.input)}"), "destroy")],
      }),
    ];
  }

  /** A unit of the host: listed in the inventory, which runs after its deploy. */
  add(entry: () => InventoryEntry, deploy: TerraformResource): void {
    this.entries.push(entry);
    for (const r of this.resources) r.dependsOn = [...(r.dependsOn ?? []), dependable(deploy)];
  }
}
