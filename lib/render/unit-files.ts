import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { sha256Hex } from "../hash";
import { slug } from "../paths";
import { renderApacheConfig } from "./apache-config";
import { renderEntryPoint } from "./entry-point";

/**
 * The ONE mapping from an app unit's spec to the text that lands on the host. Synth hashes
 * what it returns (`apacheConfigSha256`, `entryPointSha256`), apply writes it and checks it
 * against those hashes, drift compares the host with it. Each renderer sees only the fields
 * named in its list, so the plan summary's "settings behind the config" cannot go stale: a
 * unit test mutates every spec field and checks that exactly these change the hashes.
 */

/** Spec fields (dotted for nested) rendered into the Apache config. */
export const APACHE_CONFIG_FIELDS = ["unit", "host.home", "host.apache.mode", "host.connection.user", "appDir", "entryPoint", "venvPath", "mount", "staticDirs", "daemon"] as const;
/** Spec fields rendered into the entry point. */
/** (`host.home` only with a secret environment, whose file the entry point names by its absolute path.) */
export const ENTRY_POINT_FIELDS = ["unit", "module", "callable", "environment", "secretEnvironment.path", "host.home"] as const;

/** What the renderers read: an app spec before its rendered hashes exist (at synth). */
export type RenderInput = Pick<AppUnitSpec, "unit" | "appDir" | "entryPoint" | "venvPath" | "mount" | "staticDirs" | "daemon" | "module" | "callable" | "environment"> & {
  readonly secretEnvironment?: Pick<NonNullable<AppUnitSpec["secretEnvironment"]>, "path">;
  readonly host: Pick<AppUnitSpec["host"], "home"> & {
    readonly apache: Pick<AppUnitSpec["host"]["apache"], "mode">;
    readonly connection: Pick<AppUnitSpec["host"]["connection"], "user">;
  };
};

export function apacheConfigOf(spec: RenderInput): string {
  return renderApacheConfig({
    unit: spec.unit,
    home: spec.host.home,
    appDir: spec.appDir,
    entryPoint: spec.entryPoint,
    venvPath: spec.venvPath,
    mount: spec.mount,
    staticDirs: spec.staticDirs,
    daemon: spec.daemon,
    // Managed: the hoster's root Apache runs the daemon as the deploy user (when the plan knows it).
    ...(spec.host.apache.mode === "managed" && { managed: { deployUser: spec.host.connection.user } }),
  });
}

export function entryPointOf(spec: RenderInput): string {
  return renderEntryPoint({
    unit: spec.unit,
    module: spec.module,
    callable: spec.callable,
    environment: spec.environment,
    ...(spec.secretEnvironment !== undefined && { secretEnvironmentFile: path.posix.join(spec.host.home, spec.secretEnvironment.path) }),
  });
}

/** The hashes synth puts into the spec (and apply checks the rendered text against). */
export function renderedHashes(spec: RenderInput): Pick<AppUnitSpec, "apacheConfigSha256" | "entryPointSha256"> {
  return { apacheConfigSha256: sha256Hex(apacheConfigOf(spec)), entryPointSha256: sha256Hex(entryPointOf(spec)) };
}

/** File name of the generated entry point inside a release. */
export function entryPointName(spec: Pick<AppUnitSpec, "entryPoint">): string {
  return path.posix.basename(spec.entryPoint);
}

/** What a release must hold: the app's files plus the generated entry point (relative path -> sha256). */
export function releaseFilesOf(spec: Pick<AppUnitSpec, "files" | "entryPoint" | "entryPointSha256">): Record<string, string> {
  return { ...spec.files, [entryPointName(spec)]: spec.entryPointSha256 };
}

/** Where the app's Apache config goes: the self-managed conf dir, or a snippet for the hoster. */
export function apacheConfigPath(spec: Pick<AppUnitSpec, "unit" | "host">): string {
  const name = `webshare-${slug(spec.unit)}.conf`;
  return spec.host.apache.mode === "self" ? path.posix.join(spec.host.apache.confDir, name) : path.posix.join(spec.host.home, spec.host.stateDir, "apache", name);
}
