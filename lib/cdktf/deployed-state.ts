import * as fs from "node:fs";
import * as path from "node:path";
import { WebshareError } from "../errors";
import { exitText, runLocal } from "../local-process";
import type { SynthesizedUnit } from "../stacks/read";

/**
 * Is this checkout what is deployed? `drift --fix` and `rollback` act on the host from the
 * SYNTHESIZED stacks of this checkout. In a team sharing one state, another checkout may
 * have deployed a newer version since: fixing "drift" from an older checkout would put the
 * old version back outside Terraform. So before either touches a host, each unit's deploy
 * key as synthesized here (`triggers_replace.deploy`, a hash of the whole spec minus the
 * connection) is compared with the key the engine's state records for the same address,
 * read with `<engine> state pull` in the stack's directory (the backend the stack names,
 * so a shared backend is read; nothing is locked or written).
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/** Recorded deploy key per resource address, from `state pull` JSON (pure). Tainted instances count: they record the last attempt. */
export function deployedKeys(stateText: string): Map<string, string> {
  const keys = new Map<string, string>();
  const state: unknown = stateText.trim() === "" ? {} : JSON.parse(stateText);
  const resources = isObject(state) && Array.isArray(state.resources) ? state.resources : [];
  for (const resource of resources) {
    if (!isObject(resource) || resource.mode !== "managed" || resource.module !== undefined) continue;
    if (resource.type !== "terraform_data" && resource.type !== "null_resource") continue;
    const instance = (Array.isArray(resource.instances) ? resource.instances : []).find((i) => isObject(i) && i.deposed === undefined);
    const attributes = isObject(instance) && isObject(instance.attributes) ? instance.attributes : {};
    // terraform_data's triggers_replace is dynamic: state holds {"value": ..., "type": ...}.
    const raw = resource.type === "terraform_data" ? attributes.triggers_replace : attributes.triggers;
    const triggers = isObject(raw) && isObject(raw.value) ? raw.value : raw;
    if (isObject(triggers) && typeof triggers.deploy === "string") keys.set(`${resource.type}.${resource.name}`, triggers.deploy);
  }
  return keys;
}

/** What differs between the units as synthesized here and the state (pure); empty when they match. */
export function differencesFromState(units: readonly SynthesizedUnit[], deployed: ReadonlyMap<string, string>): string[] {
  const differences: string[] = [];
  for (const unit of units) {
    const recorded = deployed.get(unit.address);
    if (recorded === undefined) differences.push(`${unit.spec.unit}: not in the state (never deployed with this stack's backend)`);
    else if (unit.deployKey !== undefined && recorded !== unit.deployKey) differences.push(`${unit.spec.unit}: synthesized here as deploy ${unit.deployKey}, deployed as ${recorded}`);
  }
  return differences;
}

export const checkoutDiffers = (command: string, stack: string, differences: readonly string[]) =>
  new WebshareError(
    `${command}: your checkout differs from what is deployed (the state of stack ${stack}); refusing, since it would act on the host from this checkout's version: ${differences.join("; ")}`,
    "pull and synth again (or deploy this checkout first), then run it again; --no-state-check skips this comparison",
  );

/** The stack directory's state as the engine reads it from the stack's backend; init first when it never ran there. */
export async function pullState(stackDir: string, binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  const run = (args: string[]) => runLocal(binary, args, { cwd: stackDir, env, passThrough: false });
  if (!fs.existsSync(path.join(stackDir, ".terraform"))) {
    const init = await run(["init", "-input=false", "-no-color"]);
    if (init.code !== 0) throw stateUnreadable(binary, "init", exitText(init.code), init.output);
  }
  const pulled = await run(["state", "pull"]);
  if (pulled.code !== 0) throw stateUnreadable(binary, "state pull", exitText(pulled.code), pulled.output);
  // Warnings (e.g. about the CLI config) go to stderr; the state is the JSON object.
  const start = /^\{/m.exec(pulled.output)?.index;
  return start === undefined ? "" : pulled.output.slice(start, pulled.output.lastIndexOf("}") + 1);
}

const stateUnreadable = (binary: string, step: string, why: string, output: string) =>
  new WebshareError(
    `cannot read the deployed state to compare it with this checkout: ${binary} ${step} failed (${why})`,
    "set TERRAFORM_BINARY_NAME to the engine the stack deploys with (and its backend credentials), or pass --no-state-check to act from this checkout without comparing",
    output.trim().split("\n").slice(-15).join("\n"),
  );

/** Refuse unless every unit of `units` is deployed exactly as synthesized in `outdir`. */
export async function requireDeployedAsSynthesized(command: string, outdir: string, units: readonly SynthesizedUnit[], binary: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (const stack of [...new Set(units.map((u) => u.stack))]) {
    const deployed = deployedKeys(await pullState(path.join(outdir, "stacks", stack), binary, env));
    const differences = differencesFromState(units.filter((u) => u.stack === stack), deployed);
    if (differences.length > 0) throw checkoutDiffers(command, stack, differences);
  }
}
