import * as fs from "node:fs";
import * as path from "node:path";
import { errors } from "../errors";

/**
 * A cdktf project as `cdktf deploy` sees it: the app command and output dir from
 * cdktf.json, and the stacks of the synthesized manifest. Parsing is pure; reading is thin.
 */
export interface CdktfProjectConfig {
  /** The synth command, e.g. `node dist/main.js`. */
  readonly app: string;
  /** Output directory, absolute. */
  readonly outdir: string;
}

export interface SynthesizedStack {
  readonly name: string;
  /** Where Terraform runs for this stack, absolute. */
  readonly workingDirectory: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

export function parseCdktfJson(text: string, projectDir: string): CdktfProjectConfig {
  const file = path.join(projectDir, "cdktf.json");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw errors.badCdktfJson(file, `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(json) || typeof json.app !== "string" || json.app.trim() === "") throw errors.badCdktfJson(file, 'it has no "app" command');
  if (json.output !== undefined && typeof json.output !== "string") throw errors.badCdktfJson(file, '"output" must be a string');
  return { app: json.app, outdir: path.resolve(projectDir, (json.output as string | undefined) ?? "cdktf.out") };
}

export function readCdktfProject(projectDir: string): CdktfProjectConfig {
  const file = path.join(projectDir, "cdktf.json");
  if (!fs.existsSync(file)) throw errors.badCdktfJson(file, "the file does not exist: run webshare deploy in the cdktf project directory");
  return parseCdktfJson(fs.readFileSync(file, "utf8"), projectDir);
}

/** The stack to deploy: the one named, or the only one. Like `cdktf deploy`, several need a name. */
export function pickStack(manifestText: string, outdir: string, requested: string | undefined): SynthesizedStack {
  const manifest: unknown = JSON.parse(manifestText);
  const stacks = isObject(manifest) && isObject(manifest.stacks) ? manifest.stacks : {};
  const names = Object.keys(stacks).sort();
  const name = requested ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) throw errors.whichStack(names);
  const stack = stacks[name];
  if (!isObject(stack) || typeof stack.workingDirectory !== "string") throw errors.whichStack(names, name);
  return { name, workingDirectory: path.resolve(outdir, stack.workingDirectory) };
}

export function readStack(outdir: string, requested: string | undefined): SynthesizedStack {
  const manifest = path.join(outdir, "manifest.json");
  if (!fs.existsSync(manifest)) throw errors.noSynthesizedStacks(outdir);
  return pickStack(fs.readFileSync(manifest, "utf8"), outdir, requested);
}
