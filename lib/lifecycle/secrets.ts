import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { commandLine } from "../shell";
import { sha256Hex } from "../hash";
import { plural } from "../plural";
import { abs } from "./context";
import type { UploadFile } from "../ssh/remote-session";
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

/** Files a deploy writes on the host, with the shell text that makes their dirs first, and its progress line's detail. */
export interface HostWrites {
  readonly dirs: string;
  readonly files: UploadFile[];
  readonly detail: string;
}

/**
 * The secret files whose content differs from the host's (`digests`: the release state's
 * read, comparedFiles), as writes of one exchange: atomic, mode 0600; undefined when none
 * differs. Dirs made for them are the owner's only (umask 077); existing ones keep their
 * modes, except the secret environment's own dir (0700).
 */
export function secretWrites(spec: AppUnitSpec, inputs: AppInputs, digests: ReadonlyMap<string, string>): HostWrites | undefined {
  const files = [
    ...(inputs.secretEnvironment !== undefined && spec.secretEnvironment !== undefined ? [{ path: spec.secretEnvironment.path, text: inputs.secretEnvironment, dirMode: SECRETS_DIR_MODE }] : []),
    ...(inputs.secretFiles ?? []).map((f) => ({ ...f, dirMode: undefined })),
  ];
  const stale = files.filter((f) => digests.get(abs(spec.host, f.path)) !== sha256Hex(f.text));
  if (stale.length === 0) return undefined;
  const dirs = [...new Set(stale.map((f) => path.posix.dirname(abs(spec.host, f.path))))];
  const own = [...new Set(stale.filter((f) => f.dirMode !== undefined).map((f) => path.posix.dirname(abs(spec.host, f.path))))];
  return {
    dirs: [`(umask 077 && ${commandLine(["mkdir", "-p", ...dirs])})`, ...(own.length > 0 ? [commandLine(["chmod", SECRETS_DIR_MODE, ...own])] : [])].join(" && "),
    files: stale.map((f) => ({ remote: abs(spec.host, f.path), content: f.text, mode: 0o600, atomic: true })),
    detail: `(${plural(stale.length, "file")}: ${stale.map((f) => f.path).join(", ")}, mode 0600)`,
  };
}

/** database.yml when its content differs from the host's (compared by sha256 in the release state's read): atomic, mode 0600, its dir the owner's only when made. */
export function databaseYmlWrite(spec: AppUnitSpec, inputs: AppInputs, digests: ReadonlyMap<string, string>): HostWrites | undefined {
  const yml = spec.databaseYml;
  const text = inputs.databaseYml;
  if (yml === undefined || text === undefined) return undefined;
  const target = abs(spec.host, yml.path);
  if (digests.get(target) === sha256Hex(text)) return undefined;
  return {
    dirs: `(umask 077 && ${commandLine(["mkdir", "-p", path.posix.dirname(target)])})`,
    files: [{ remote: target, content: text, mode: 0o600, atomic: true }],
    detail: `(${yml.path}, mode 0600)`,
  };
}
