import { createHmac } from "node:crypto";
import * as fs from "node:fs";

/**
 * Secret files and secret environment values of an app (`WsgiApp.secretFiles`,
 * `WsgiApp.secretEnvironment`). The plan and state hold only where a value comes from (a
 * local file path or an environment variable NAME) and a keyed hash of it, so a change still
 * shows in the plan and triggers a deploy. The content is read on the deploying machine at
 * synth (for the hash) and at apply (to write it), and written to the host with mode 0600.
 * Only `readSecretFile` and `readSecretEnvironment` read anything; the rest is pure.
 */

/** Where a secret file's content comes from: a local `file`, or the environment variable NAMED by `fromEnv`. */
export type SecretFileSource = { readonly file: string } | { readonly fromEnv: string };

/**
 * Keyed hash of a secret for the plan: it changes when the content changes, but is no plain
 * sha256 that could be looked up. (A weak secret can still be guessed offline from it.)
 */
export function secretDigest(unit: string, what: string, text: string): string {
  return createHmac("sha256", `webshare-cdktf ${what} ${unit}`).update(text).digest("hex");
}

const variables = (names: readonly string[]) => `environment ${names.length === 1 ? "variable" : "variables"} ${names.join(", ")}, which ${names.length === 1 ? "is" : "are"} not set`;

/** Read a secret file's content; a problem names the file or the variable NAME, never a value. */
export function readSecretFile(source: SecretFileSource, env: NodeJS.ProcessEnv): { text?: string; problem?: string } {
  if ("file" in source) {
    try {
      return { text: fs.readFileSync(source.file, "utf8") };
    } catch (e) {
      return { problem: `file ${JSON.stringify(source.file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}); paths are relative to ${process.cwd()}` };
    }
  }
  const value = env[source.fromEnv];
  return value === undefined ? { problem: `needs ${variables([source.fromEnv])}` } : { text: value };
}

/**
 * The app's secret environment as the host file holds it: a JSON object, app variable ->
 * value, keys sorted. `fromEnv` maps each app variable to the NAME of the deploying
 * environment's variable that holds its value.
 */
export function readSecretEnvironment(fromEnv: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): { text?: string; problem?: string } {
  const missing = [...new Set(Object.values(fromEnv).filter((name) => env[name] === undefined))];
  if (missing.length > 0) return { problem: `needs ${variables(missing)}` };
  const values = Object.fromEntries(Object.keys(fromEnv).sort().map((key) => [key, env[fromEnv[key]!]!]));
  return { text: JSON.stringify(values) + "\n" };
}

/** How a secret's source is named in messages and the plan: the file path or the variable NAME. */
export function secretSourceName(source: { readonly file?: string; readonly fromEnv?: string }): string {
  return source.file !== undefined ? `file ${source.file}` : `environment variable ${source.fromEnv ?? "?"}`;
}
