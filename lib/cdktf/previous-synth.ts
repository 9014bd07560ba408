import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The last synth of a stack and where its state lives, read with Node built-ins alone:
 * `webshare deploy` reads them before it starts the new synth (which overwrites them), and
 * loads the modules that parse them (lib/cdktf/preconnect.ts) while the app synthesizes.
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * The stack's state file when its backend is local (cdktf writes `backend.local.path`; no
 * backend is the engine's default `terraform.tfstate`), else undefined (pure).
 */
export function localStateFile(stackJson: unknown, workingDirectory: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.TF_WORKSPACE !== undefined && env.TF_WORKSPACE !== "" && env.TF_WORKSPACE !== "default") return undefined;
  const terraform = isObject(stackJson) && isObject(stackJson.terraform) ? stackJson.terraform : {};
  const backend = isObject(terraform.backend) ? terraform.backend : undefined;
  if (backend === undefined) return path.join(workingDirectory, "terraform.tfstate");
  const keys = Object.keys(backend);
  if (keys.length !== 1 || keys[0] !== "local") return undefined;
  const local = isObject(backend.local) ? backend.local : {};
  if (local.workspace_dir !== undefined) return undefined;
  return path.resolve(workingDirectory, typeof local.path === "string" ? local.path : "terraform.tfstate");
}

/**
 * The previous synth of the stack, read BEFORE the new synth overwrites it: the stack's name,
 * its JSON and its state file's text. Undefined when there is none to read, the stack is
 * not named and there are several, or the state is not a local file (then no early guess).
 */
export interface PreviousSynth {
  readonly stack: string;
  readonly json: unknown;
  readonly stateText: string | undefined;
}

export function readPreviousSynth(outdir: string, stackName: string | undefined, env: NodeJS.ProcessEnv): PreviousSynth | undefined {
  try {
    const stacks = path.join(outdir, "stacks");
    const names = stackName !== undefined ? [stackName] : fs.readdirSync(stacks);
    if (names.length !== 1) return undefined;
    const dir = path.join(stacks, names[0]!);
    const json: unknown = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));
    const stateFile = localStateFile(json, dir, env);
    if (stateFile === undefined) return undefined;
    return { stack: names[0]!, json, stateText: fs.existsSync(stateFile) ? fs.readFileSync(stateFile, "utf8") : undefined };
  } catch {
    return undefined;
  }
}
