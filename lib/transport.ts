import * as fs from "node:fs";
import * as path from "node:path";
import { errors } from "./errors";
import { sha256Hex, stableStringify } from "./hash";
import type { z } from "zod";
import { plannedUnitOfStack } from "./stacks/read";
import { joinConnection, removalSpec, RemovalSpec, unitSpec, UnitSpec } from "./spec";
import { InventorySpec, inventorySpec } from "./inventory-spec";
import { describeIssues } from "./props-validation";

/**
 * How a unit's spec reaches its provisioner: the synth side (constructs/unit-resource.ts)
 * and the apply side (host/provision.ts, through specFromEnvironment below) of one contract.
 *
 * The spec is NOT copied into the provisioner's environment: one environment string is
 * limited to 128 KiB on Linux (MAX_ARG_STRLEN), which an app of ~1,500 files exceeds. The
 * `deploy` provisioner instead reads its unit from the synthesized stack the engine runs
 * (`cdk.tf.json` in WEBSHARE_STACK_DIR, the engine's working directory) and checks it
 * against WEBSHARE_SPEC_SHA256, the digest of the planned spec written into the provisioner's
 * environment at synth. Provisioner blocks come from the configuration the plan was made
 * from (a saved plan carries a snapshot of it), so a stack synthesized again between plan
 * and apply no longer matches and the provisioner refuses: nothing unplanned is applied.
 * The `remove` resource's spec is small (paths and the host) and still comes from state as
 * WEBSHARE_UNIT: a destroy removes what was recorded, whatever the stack says now.
 *
 * WEBSHARE_CONNECTION holds the deploying machine's connection settings (key path,
 * passphrase variable, agent, timeout), which are not part of the plan (lib/spec.ts).
 */
export const TRANSPORT_ENV = {
  /** The unit's construct path: which deploy resource of the stack to read. */
  unit: "WEBSHARE_UNIT_PATH",
  /** Absolute path of the stack directory (`abspath(path.module)`, evaluated at apply). */
  stackDir: "WEBSHARE_STACK_DIR",
  /** sha256 of the planned spec (stable JSON): the key the stack's copy must match. */
  digest: "WEBSHARE_SPEC_SHA256",
  /** The machine's connection settings as JSON. */
  connection: "WEBSHARE_CONNECTION",
  /** A whole spec as JSON: the removal spec, or a deploy spec run by hand. */
  spec: "WEBSHARE_UNIT",
} as const;

/** The key a synthesized spec must match at apply: sha256 of its stable JSON (keys sorted). */
export function specDigest(planned: unknown): string {
  return sha256Hex(stableStringify(planned));
}

/** The planned spec and the machine's connection settings, as the provisioner receives them. */
export interface ReceivedSpec {
  /** Unvalidated JSON value. */
  readonly planned: unknown;
  readonly local?: unknown;
}

const json = (name: string, text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.invalidSpec(`${name} is not JSON: ${(e as Error).message}`);
  }
};

/** WEBSHARE_CONNECTION, if set. */
function localOf(env: NodeJS.ProcessEnv): unknown {
  const text = env[TRANSPORT_ENV.connection];
  return text === undefined || text === "" ? undefined : json(TRANSPORT_ENV.connection, text);
}

/** A spec passed whole in WEBSHARE_UNIT (the removal spec). */
export function specFromVariable(env: NodeJS.ProcessEnv): ReceivedSpec {
  const text = env[TRANSPORT_ENV.spec];
  if (text === undefined || text === "") throw errors.provisionByHand();
  const local = localOf(env);
  return { planned: json(TRANSPORT_ENV.spec, text), ...(local !== undefined && { local }) };
}

/**
 * The last stack text parsed and its value, read-only by convention. Under `webshare deploy`
 * every unit of the apply runs in one process (lib/host/provision-serve.ts) and reads the
 * same cdk.tf.json: for a 1,000-unit stack (5.8 MB) comparing the text costs ~0.5 ms where
 * parsing it costs ~22 ms (reading it ~7 ms either way), on the deploy process's one thread.
 */
let lastParsed: { readonly text: string; readonly value: unknown } | undefined;
function parseStack(text: string): unknown {
  if (lastParsed?.text !== text) lastParsed = { text, value: JSON.parse(text) as unknown };
  return lastParsed.value;
}

/**
 * The deploy spec: read from the synthesized stack and checked against the planned digest.
 * Without a digest in the environment (a provisioner run by hand), WEBSHARE_UNIT.
 */
export function deploySpecFromEnvironment(env: NodeJS.ProcessEnv, readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): ReceivedSpec {
  const digest = env[TRANSPORT_ENV.digest];
  if (digest === undefined || digest === "") return specFromVariable(env);
  const unit = env[TRANSPORT_ENV.unit];
  const stackDir = env[TRANSPORT_ENV.stackDir];
  if (!unit || !stackDir) throw errors.invalidSpec(`${TRANSPORT_ENV.digest} is set, but ${TRANSPORT_ENV.unit} or ${TRANSPORT_ENV.stackDir} is not; synthesize again`);
  const file = path.join(stackDir, "cdk.tf.json");
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    throw errors.stackChangedSincePlan(unit, file, `it cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let stack: unknown;
  try {
    stack = parseStack(text);
  } catch (e) {
    throw errors.stackChangedSincePlan(unit, file, `it is not JSON: ${(e as Error).message}`);
  }
  const found = plannedUnitOfStack(path.basename(stackDir), stack, unit);
  if (found === undefined) throw errors.stackChangedSincePlan(unit, file, "it has no deploy resource for this unit");
  if (specDigest(found.planned) !== digest) throw errors.stackChangedSincePlan(unit, file, "its spec for this unit differs from the planned one");
  // The machine's settings as planned (the provisioner's environment), not as the file has them now.
  const local = localOf(env);
  return { planned: found.planned, ...(local !== undefined && { local }) };
}

/** A received spec validated with `schema`, the machine's connection settings joined in. */
export function validUnit<T extends z.ZodType>(schema: T, received: ReceivedSpec): z.infer<T> {
  const parsed = schema.safeParse(joinConnection(received.planned, received.local));
  if (!parsed.success) throw errors.invalidSpec(describeIssues(parsed.error, joinConnection(received.planned, received.local)).join("; "));
  return parsed.data;
}

/** A spec as JSON text (WEBSHARE_UNIT), validated with `schema`. */
export function parseUnit<T extends z.ZodType>(schema: T, json: string | undefined): z.infer<T> {
  return validUnit(schema, specFromVariable({ WEBSHARE_UNIT: json }));
}

/** The unit a `provision` run works on, from the provisioner's environment (see lib/transport.ts). */
export function unitFromEnvironment(action: "create", env: NodeJS.ProcessEnv): UnitSpec;
export function unitFromEnvironment(action: "destroy", env: NodeJS.ProcessEnv): RemovalSpec;
export function unitFromEnvironment(action: "create" | "destroy", env: NodeJS.ProcessEnv): UnitSpec | RemovalSpec {
  return action === "create" ? validUnit(unitSpec, deploySpecFromEnvironment(env)) : validUnit(removalSpec, specFromVariable(env));
}

/** Whether the provisioner's JSON is a host inventory (lib/inventory-spec.ts) rather than a unit. */
function isInventory(json: string | undefined): boolean {
  try {
    const raw: unknown = JSON.parse(json ?? "");
    return raw !== null && typeof raw === "object" && (raw as { kind?: unknown }).kind === "inventory";
  } catch {
    return false;
  }
}

/** What a provisioner works on: a host inventory, which travels whole in WEBSHARE_UNIT (it is small), or a unit. */
export function specFromEnvironment(action: "create" | "destroy", env: NodeJS.ProcessEnv): UnitSpec | RemovalSpec | InventorySpec {
  if (isInventory(env.WEBSHARE_UNIT)) return validUnit(inventorySpec, specFromVariable(env));
  return action === "create" ? unitFromEnvironment("create", env) : unitFromEnvironment("destroy", env);
}
