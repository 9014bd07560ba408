import { z } from "zod";
import * as path from "node:path";
import { AppRemovalSpec, hostSpec, SPEC_VERSION, VenvRemovalSpec } from "./spec";
import { apacheConfigPath } from "./render/unit-files";

/**
 * A host's inventory: the units a WebshareHost declares and the paths each one owns. The
 * engine runs no destroy provisioner for a resource whose block left the configuration, so
 * a unit removed from (or renamed in) the stack would stay on the host; the inventory's
 * provisioner removes every unit the host records for this WebshareHost that is not listed.
 * Pure: the schema and the one mapping from a unit to the paths it owns.
 */

/** What a unit owns on the host: the same mapping writes unit records and the inventory. */
export const ownedPaths = z.object({
  /** Home-relative symlinks (removed only while they are symlinks). */
  links: z.array(z.string()),
  /** Home-relative directories of the unit's content-addressed dirs (removed, then their parent if empty). */
  contentDirs: z.array(z.string()),
  /** Home-relative files the tool wrote for the unit. */
  files: z.array(z.string()),
  /** Absolute path of the app's Apache config (self-managed) or snippet (managed). */
  apacheConfig: z.string().optional(),
});
export type OwnedPaths = z.infer<typeof ownedPaths>;

export const inventoryEntry = z.object({
  unit: z.string(),
  kind: z.enum(["venv", "app"]),
  owns: ownedPaths,
});
export type InventoryEntry = z.infer<typeof inventoryEntry>;

export const inventorySpec = z.object({
  kind: z.literal("inventory"),
  specVersion: z.literal(SPEC_VERSION),
  /** Construct path of the inventory, for messages. */
  unit: z.string(),
  host: hostSpec,
  /** Every unit the host declares. Empty in the cleanup resource: at stack destroy, nothing stays. */
  units: z.array(inventoryEntry),
});
export type InventorySpec = z.infer<typeof inventorySpec>;

/** What the mapping reads of a unit: its removal spec's paths (and an app's name and host, for its config). */
export type OwnerInput = Pick<VenvRemovalSpec, "kind" | "venvPath" | "venvsDir" | "requirementsPath" | "freezePath"> | Pick<AppRemovalSpec, "kind" | "unit" | "host" | "appDir" | "releasesDir">;

/** The paths a unit owns (never database.yml: destroy leaves it in place). */
export function ownedBy(spec: OwnerInput): OwnedPaths {
  if (spec.kind === "venv") return { links: [spec.venvPath], contentDirs: [spec.venvsDir], files: [spec.requirementsPath, spec.freezePath] };
  return { links: [spec.appDir], contentDirs: [spec.releasesDir], files: [], apacheConfig: apacheConfigPath(spec) };
}

/** The directory the tool writes Apache configs (or snippets) into on this host. */
export function apacheConfigDir(host: InventorySpec["host"]): string {
  return path.posix.dirname(apacheConfigPath({ unit: "x", host }));
}
