import * as fs from "node:fs";
import type { AppUnitSpec, VenvUnitSpec } from "../spec";
import { errors, Place, WebshareError } from "../errors";
import { sha256Hex } from "../hash";
import { hashFlatDir, hashTree } from "../local-files";
import { requirementLines } from "../requirements";
import { installIdentity } from "../install-identity";
import { databaseYmlDigest, readDatabaseYml } from "../database-yml";
import { readSecretEnvironment, readSecretFile, secretDigest, secretSourceName } from "../secrets";
import { apacheConfigOf, entryPointOf } from "../render/unit-files";
import type { StepContext } from "./context";

/**
 * The "as planned" check: apply reads every local input again (the plan holds hashes, not
 * content) and refuses to deploy anything that differs from what the plan was made from,
 * naming each input that changed. A lock edited while `webshare deploy` waits at its prompt
 * would otherwise be installed into a venv named after the PLANNED inputs, and a later deploy
 * of the planned lock would reuse that wrong venv. The same check guards `drift --fix`, whose
 * desired state is the synthesized stack.
 */

/** How a mismatch is reported: after a plan (deploy) or after a synth (drift --fix). */
export type ChangedError = (place: Place, changes: readonly string[]) => WebshareError;

/** What a venv deploy writes, read once and proven to match the plan. */
export interface VenvInputs {
  readonly installText: string;
  /** requirements.txt for the host: the requirements file, or the lock when there is none. */
  readonly requirementsText: string;
}

/** What an app deploy writes, rendered once and proven to match the plan. */
export interface AppInputs {
  readonly entryPointText: string;
  readonly apacheConfig: string;
  readonly databaseYml?: string;
  /** The secret environment file's text (a JSON object). */
  readonly secretEnvironment?: string;
  /** Each secret file's home-relative path and content. */
  readonly secretFiles?: readonly { readonly path: string; readonly text: string }[];
}

function readLocal(place: Place, what: string, file: string): string {
  if (!fs.existsSync(file)) throw errors.localFileMissing(place, what, file);
  return fs.readFileSync(file, "utf8");
}

/** Names of the map entries that differ between two name -> hash maps. */
function changedNames(planned: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(planned), ...Object.keys(now)])].filter((k) => planned[k] !== now[k]).sort();
}

function listed(names: readonly string[]): string {
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

export function venvAsPlanned(ctx: StepContext, spec: VenvUnitSpec, changedError: ChangedError = errors.changedSincePlan): VenvInputs {
  const installFile = (spec.lockFile ?? spec.requirementsFile)!;
  const installText = readLocal(ctx.place, spec.lockFile ? "lock file" : "requirements file", installFile);
  const requirementsText = spec.requirementsFile !== undefined ? readLocal(ctx.place, "requirements file", spec.requirementsFile) : installText;
  const changes: string[] = [];
  // By meaning, like the venv id: a comment edited since the plan installs the same venv, any other edit is refused.
  if (installIdentity(installText) !== spec.installSha256) changes.push(`${spec.lockFile ? "lock file" : "requirements file"} ${installFile}`);
  // With a lock, requirements.txt on the host comes from the requirements file: the plan shows its lines.
  if (spec.lockFile !== undefined && spec.requirementsFile !== undefined && JSON.stringify(requirementLines(requirementsText)) !== JSON.stringify(spec.requirements)) {
    changes.push(`requirements file ${spec.requirementsFile}`);
  }
  if (spec.source.wheelhouse !== undefined) {
    const wheels = fs.existsSync(spec.source.wheelhouse) ? hashFlatDir(spec.source.wheelhouse) : {};
    const differ = changedNames(spec.wheelhouseFiles, wheels);
    if (differ.length > 0) changes.push(`wheelhouse ${spec.source.wheelhouse} (${listed(differ)})`);
  }
  if (changes.length > 0) throw changedError(ctx.place, changes);
  return { installText, requirementsText };
}

export function appAsPlanned(ctx: StepContext, spec: AppUnitSpec, changedError: ChangedError = errors.changedSincePlan): AppInputs {
  const changes: string[] = [];
  const differ = changedNames(spec.files, hashTree(spec.source, spec.exclude));
  if (differ.length > 0) changes.push(`app files ${listed(differ)}`);
  let databaseYml: string | undefined;
  if (spec.databaseYml !== undefined) {
    const yml = spec.databaseYml;
    const read = readDatabaseYml(yml.file !== undefined ? { file: yml.file } : { fromEnv: yml.fromEnv ?? {} }, ctx.env);
    if (read.text === undefined) throw errors.databaseYmlUnavailable(ctx.place, read.problem ?? "unknown problem");
    if (databaseYmlDigest(spec.unit, read.text) !== yml.digest) changes.push(`database.yml content (from ${yml.file ?? "environment variables " + Object.values(yml.fromEnv ?? {}).join(", ")})`);
    databaseYml = read.text;
  }
  let secretEnvironment: string | undefined;
  if (spec.secretEnvironment !== undefined) {
    const read = readSecretEnvironment(spec.secretEnvironment.fromEnv, ctx.env);
    if (read.text === undefined) throw errors.secretUnavailable(ctx.place, "secretEnvironment", read.problem ?? "unknown problem");
    if (secretDigest(spec.unit, "secretEnvironment", read.text) !== spec.secretEnvironment.digest) {
      changes.push(`secretEnvironment values (from environment variables ${[...new Set(Object.values(spec.secretEnvironment.fromEnv))].join(", ")})`);
    }
    secretEnvironment = read.text;
  }
  const secretFiles: { path: string; text: string }[] = [];
  for (const file of spec.secretFiles ?? []) {
    const read = readSecretFile(file.file !== undefined ? { file: file.file } : { fromEnv: file.fromEnv ?? "" }, ctx.env);
    if (read.text === undefined) throw errors.secretUnavailable(ctx.place, `secretFiles[${JSON.stringify(file.path)}]`, read.problem ?? "unknown problem");
    if (secretDigest(spec.unit, `secretFiles ${file.path}`, read.text) !== file.digest) changes.push(`secret file ${file.path} content (from ${secretSourceName(file)})`);
    secretFiles.push({ path: file.path, text: read.text });
  }
  // Both are rendered from the spec itself: a mismatch means another webshare-cdktf version applies than planned.
  const apacheConfig = apacheConfigOf(spec);
  const entryPointText = entryPointOf(spec);
  if (sha256Hex(apacheConfig) !== spec.apacheConfigSha256) changes.push("rendered Apache config (a different webshare-cdktf version than the one that planned?)");
  if (sha256Hex(entryPointText) !== spec.entryPointSha256) changes.push("rendered entry point (a different webshare-cdktf version than the one that planned?)");
  if (changes.length > 0) throw changedError(ctx.place, changes);
  return {
    entryPointText,
    apacheConfig,
    ...(databaseYml !== undefined && { databaseYml }),
    ...(secretEnvironment !== undefined && { secretEnvironment }),
    ...(secretFiles.length > 0 && { secretFiles }),
  };
}
