import { createHmac } from "node:crypto";
import { readSecretFile } from "./secrets";

// database.yml for an app. The content is a secret: it is read at apply time and only a keyed
// hash of it is synthesized (so a change still shows in the plan and triggers a deploy).
// Only readDatabaseYml does I/O.

/**
 * Where an app's database.yml comes from: a local `file`, or `fromEnv`, YAML key -> NAME of
 * the environment variable that holds its value (rendered as `key: value` lines).
 */
export type DatabaseYmlSource = { readonly file: string } | { readonly fromEnv: Readonly<Record<string, string>> };

/**
 * `WsgiApp.databaseYml`: a source, plus `path`, where on the host the file goes (home-relative;
 * default `<private>/database.yml`). Two apps on one host need two paths.
 */
export type DatabaseYmlOptions = DatabaseYmlSource & { readonly path?: string };

/** YAML mapping from key -> environment variable value; values are JSON (= YAML) strings. */
function renderDatabaseYml(fromEnv: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): { text?: string; missing: string[] } {
  const missing = Object.values(fromEnv).filter((name) => env[name] === undefined);
  if (missing.length > 0) return { missing };
  const lines = Object.keys(fromEnv)
    .sort()
    .map((key) => `${key}: ${JSON.stringify(env[fromEnv[key]])}`);
  return { text: lines.join("\n") + "\n", missing: [] };
}

/**
 * Keyed hash of the content for the plan: changes when the content changes, but is no
 * plain sha256 that could be looked up. (A weak password can still be guessed offline from
 * it; use strong database passwords.)
 */
export function databaseYmlDigest(unit: string, text: string): string {
  return createHmac("sha256", `webshare-cdktf database.yml ${unit}`).update(text).digest("hex");
}

/** Read the content from its source; a problem names the file or variable NAMES, never values. */
export function readDatabaseYml(source: DatabaseYmlSource, env: NodeJS.ProcessEnv): { text?: string; problem?: string } {
  if ("file" in source) return readSecretFile(source, env);
  const rendered = renderDatabaseYml(source.fromEnv, env);
  if (rendered.text === undefined) return { problem: `needs environment ${rendered.missing.length === 1 ? "variable" : "variables"} ${rendered.missing.join(", ")}, which ${rendered.missing.length === 1 ? "is" : "are"} not set` };
  return { text: rendered.text };
}
