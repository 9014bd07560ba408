import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The Terraform or OpenTofu binary cdktf would use: TERRAFORM_BINARY_NAME, else `terraform`
 * (an explicit `--engine` wins).
 */
export function engineBinary(env: NodeJS.ProcessEnv, override?: string): string {
  return override || env.TERRAFORM_BINARY_NAME || "terraform";
}

/** Where the engine's name came from, so a message tells the user to change that one. */
export type EngineSource = "--engine" | "TERRAFORM_BINARY_NAME" | "default";

export function engineSource(env: NodeJS.ProcessEnv, override?: string): EngineSource {
  return override ? "--engine" : env.TERRAFORM_BINARY_NAME ? "TERRAFORM_BINARY_NAME" : "default";
}

/**
 * The engine as a program to run in any directory: a relative path (`--engine ./tofu`) is
 * taken from `cwd`, where the user typed it, not from the stack directory it runs in.
 */
export function absoluteEngine(binary: string, cwd: string): string {
  return binary.includes("/") ? path.resolve(cwd, binary) : binary;
}

/**
 * Why `binary` cannot be run, or undefined when it can: a name without a slash is looked up
 * on PATH, as spawn does. Checked before the synth, whose own engine check (in the
 * synthesized app) would otherwise name TERRAFORM_BINARY_NAME whatever set the engine.
 */
export function engineUnrunnable(binary: string, env: NodeJS.ProcessEnv): string | undefined {
  // (A path with a slash is made absolute by the caller: the engine runs in the stack directory.)
  const candidates = binary.includes("/") ? [binary] : (env.PATH ?? "").split(path.delimiter).filter((d) => d !== "").map((d) => path.join(d, binary));
  for (const file of candidates) {
    try {
      if (fs.statSync(file).isFile()) {
        fs.accessSync(file, fs.constants.X_OK);
        return undefined;
      }
    } catch (e) {
      if (binary.includes("/")) return (e as NodeJS.ErrnoException).code === "EACCES" ? "it is not executable" : "there is no such file";
    }
  }
  return binary.includes("/") ? "it is not a file" : "it is not on PATH";
}

/**
 * `-no-color` for the engine unless its output goes to a terminal: colour codes only help a
 * terminal, and in a CI log they are noise (NO_COLOR set to anything also turns them off:
 * https://no-color.org).
 */
export function engineColorArgs(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): string[] {
  return isTTY === true && env.NO_COLOR === undefined ? [] : ["-no-color"];
}
