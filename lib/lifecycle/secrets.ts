import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { commandLine } from "../shell";
import { sha256Hex } from "../hash";
import { plural } from "../plural";
import { abs, StepContext } from "./context";
import type { AppInputs } from "./as-planned";

/**
 * Secret files and the secret environment file of an app (lib/secrets.ts), written with mode
 * 0600 before the import check, the release commands and the switch, so everything that runs
 * the new release finds them. Only files whose content differs are written; that is compared
 * by sha256sum on the host, so no secret travels back. Their content was read at apply time
 * by the as-planned check. Directories made for them are 0700 (umask 077); those that exist
 * keep their modes. Nothing removes them: like database.yml, they stay on destroy.
 */

/** Mode of the directory of the secret environment files (`<private>/secrets`). */
const SECRETS_DIR_MODE = "0700";

/**
 * The host files whose content an app deploy compares before it writes them (database.yml,
 * the secret environment file, secret files): absolute paths, read in the release state's
 * round trip with `digestsScript`, so an unchanged file costs no exchange.
 */
export function comparedFiles(spec: AppUnitSpec): string[] {
  return [
    ...(spec.databaseYml !== undefined ? [spec.databaseYml.path] : []),
    ...(spec.secretEnvironment !== undefined ? [spec.secretEnvironment.path] : []),
    ...(spec.secretFiles ?? []).map((f) => f.path),
  ].map((p) => abs(spec.host, p));
}

/** Shell text: `<sha256>  <path>` for each of `paths` that exists (missing ones print nothing); the content never travels back. */
export function digestsScript(paths: readonly string[]): string {
  return paths.length === 0 ? "true" : `${commandLine(["sha256sum", "--", ...paths])} 2>/dev/null; true`;
}

/** What digestsScript printed: path -> sha256 (pure). */
export function parseDigests(text: string): Map<string, string> {
  return new Map(text.split("\n").filter((l) => /^[0-9a-f]{64}  /.test(l)).map((l) => [l.slice(66), l.slice(0, 64)] as const));
}

/** `have`: the digests read already in this run (comparedFiles); read here when not given. */
export async function installSecrets(ctx: StepContext, spec: AppUnitSpec, inputs: AppInputs, have?: ReadonlyMap<string, string>): Promise<void> {
  const files = [
    ...(inputs.secretEnvironment !== undefined && spec.secretEnvironment !== undefined ? [{ path: spec.secretEnvironment.path, text: inputs.secretEnvironment, dirMode: SECRETS_DIR_MODE }] : []),
    ...(inputs.secretFiles ?? []).map((f) => ({ ...f, dirMode: undefined })),
  ];
  if (files.length === 0) return;
  const { session, place, progress } = ctx;
  const targets = files.map((f) => abs(spec.host, f.path));
  // One round trip unless the release state's read brought them: the sha256 of each file that exists.
  const digests = have ?? parseDigests((await session.runRaw(place, "check secret files", digestsScript(targets))).stdout);
  const stale = files.filter((f, i) => digests.get(targets[i]!) !== sha256Hex(f.text));
  if (stale.length === 0) return;
  await progress.step("install secrets", async () => {
    const dirs = [...new Set(stale.map((f) => path.posix.dirname(abs(spec.host, f.path))))];
    const own = [...new Set(stale.filter((f) => f.dirMode !== undefined).map((f) => path.posix.dirname(abs(spec.host, f.path))))];
    // Dirs made here are the owner's only (umask 077); existing ones keep their modes.
    await session.run(place, "install secrets", [`(umask 077 && ${commandLine(["mkdir", "-p", ...dirs])})`, ...(own.length > 0 ? [commandLine(["chmod", SECRETS_DIR_MODE, ...own])] : [])].join(" && "));
    for (const f of stale) await session.writeFileAtomic(place, "install secrets", abs(spec.host, f.path), f.text, 0o600);
  }, () => `(${plural(stale.length, "file")}: ${stale.map((f) => f.path).join(", ")}, mode 0600)`);
}
