import * as fs from "node:fs";
import * as path from "node:path";
import { joinConnection, unitSpec, UnitSpec } from "../spec";
import { errors } from "../errors";
import { TemplateExpressionError, unescapeTemplate, unescapeTemplates } from "../template-escape";
import { describeIssues } from "../props-validation";

/**
 * The webshare units of synthesized stacks (`<outdir>/stacks/<stack>/cdk.tf.json`), read
 * back with the same zod schema the executor uses. A unit is a `deploy` resource: a
 * `terraform_data` whose `input` is the unit spec, or a `null_resource` whose
 * `triggers.spec` holds it as JSON. `remove` resources carry only paths and are skipped.
 * The JSON holds the spec template-escaped (`$${`, `%%{`); it is read back as the text the
 * engine evaluates it to, i.e. what the provisioner receives. The deploying machine's
 * connection settings are not in `input` but in the provisioner's environment
 * (WEBSHARE_CONNECTION); they are joined back here, so every command sees the full connection.
 */
export interface SynthesizedUnit {
  readonly stack: string;
  /** Terraform address, e.g. `terraform_data.venv_deploy_C546ADFE`. */
  readonly address: string;
  readonly spec: UnitSpec;
  /** The synthesized deploy key (`triggers_replace.deploy`, `triggers.deploy`): what the state records once applied. */
  readonly deployKey?: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/** A deploy resource: by its construct path when cdktf recorded it, else by its generated name. */
function isDeployResource(name: string, resource: Json): boolean {
  const meta = isObject(resource["//"]) && isObject(resource["//"].metadata) ? resource["//"].metadata : undefined;
  if (typeof meta?.path === "string") return meta.path.endsWith("/deploy");
  return /_deploy_[0-9A-F]{8}$/.test(name);
}

/** The escaped spec of a deploy resource, or undefined if it holds none. */
function candidate(type: string, resource: Json): unknown {
  if (type === "terraform_data") {
    const input = resource.input;
    return isObject(input) && (input.kind === "venv" || input.kind === "app") ? unescapeTemplates(input) : undefined;
  }
  const spec = isObject(resource.triggers) ? resource.triggers.spec : undefined;
  if (typeof spec !== "string") return undefined;
  try {
    // Not escaped text, or not JSON: some other resource's trigger, like a spec that is not a unit.
    const parsed: unknown = JSON.parse(unescapeTemplate(spec));
    return isObject(parsed) && (parsed.kind === "venv" || parsed.kind === "app") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

class UnreadableSetting extends Error {}

/**
 * The deploying machine's connection settings (key path, passphrase variable, agent, timeout):
 * the `WEBSHARE_CONNECTION` of the resource's provisioner environment, kept out of `input` so
 * that plans from different machines agree. Undefined for stacks synthesized before that
 * (their `input` holds the whole connection).
 */
function localConnection(resource: Json): unknown {
  const provisioners = Array.isArray(resource.provisioner) ? resource.provisioner : [];
  for (const p of provisioners) {
    const exec = isObject(p) && isObject(p["local-exec"]) ? p["local-exec"] : undefined;
    const text = exec && isObject(exec.environment) ? exec.environment.WEBSHARE_CONNECTION : undefined;
    if (typeof text !== "string") continue;
    try {
      return JSON.parse(unescapeTemplate(text));
    } catch (e) {
      if (e instanceof TemplateExpressionError) throw e;
      throw new UnreadableSetting(`WEBSHARE_CONNECTION is not JSON: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/** A deploy resource's spec as synthesized: the planned part and the machine's connection settings. */
export interface PlannedUnit {
  readonly address: string;
  /** The `input` (or `triggers.spec`), unescaped: exactly what the plan shows, not validated. */
  readonly planned: unknown;
  readonly local?: unknown;
}

/** Deploy resources of one parsed cdk.tf.json as [address, type, resource]. */
function* deployResources(json: unknown): Generator<[string, string, Json]> {
  const resources = isObject(json) && isObject(json.resource) ? json.resource : {};
  for (const type of ["terraform_data", "null_resource"]) {
    const byName = resources[type];
    if (!isObject(byName)) continue;
    for (const [name, resource] of Object.entries(byName)) {
      if (isObject(resource) && isDeployResource(name, resource)) yield [`${type}.${name}`, type, resource];
    }
  }
}

function plannedUnit(stack: string, address: string, type: string, resource: Json): PlannedUnit | undefined {
  try {
    const planned = candidate(type, resource);
    if (planned === undefined) return undefined;
    const local = localConnection(resource);
    return { address, planned, ...(local !== undefined && { local }) };
  } catch (e) {
    if (!(e instanceof TemplateExpressionError || e instanceof UnreadableSetting)) throw e;
    throw errors.unreadableStack(`${stack}: ${address}`, e.message);
  }
}

/** Whether a deploy resource is the unit at construct path `unit`, looking at its `unit` field only. */
function isUnit(type: string, resource: Json, unit: string): boolean {
  if (type !== "terraform_data") return true; // a null_resource's spec is one JSON string: parsed in full anyway
  const name = isObject(resource.input) ? resource.input.unit : undefined;
  try {
    return typeof name === "string" && unescapeTemplate(name) === unit;
  } catch {
    return false;
  }
}

/**
 * The deploy resource of the unit at construct path `unit`, as synthesized (pure): what the
 * provisioner reads instead of a copy of the spec in its environment, which has a size limit.
 */
export function plannedUnitOfStack(stack: string, json: unknown, unit: string): PlannedUnit | undefined {
  for (const [address, type, resource] of deployResources(json)) {
    if (!isUnit(type, resource, unit)) continue;
    const found = plannedUnit(stack, address, type, resource);
    if (found !== undefined && isObject(found.planned) && found.planned.unit === unit) return found;
  }
  return undefined;
}

/** Units of one parsed cdk.tf.json (pure). A unit that does not validate is an error, never skipped. */
export function unitsOfStack(stack: string, json: unknown): SynthesizedUnit[] {
  const units: SynthesizedUnit[] = [];
  for (const [address, type, resource] of deployResources(json)) {
    const raw = plannedUnit(stack, address, type, resource);
    if (raw === undefined) continue;
    const parsed = unitSpec.safeParse(joinConnection(raw.planned, raw.local));
    if (!parsed.success) {
      throw errors.unreadableStack(`${stack}: ${address}`, describeIssues(parsed.error, joinConnection(raw.planned, raw.local)).join("; "));
    }
    const triggers = type === "terraform_data" ? resource.triggers_replace : resource.triggers;
    const deployKey = isObject(triggers) && typeof triggers.deploy === "string" ? triggers.deploy : undefined;
    units.push({ stack, address, spec: parsed.data, ...(deployKey === undefined ? {} : { deployKey }) });
  }
  return units.sort((a, b) => (a.spec.unit < b.spec.unit ? -1 : a.spec.unit > b.spec.unit ? 1 : 0));
}

/** Every unit of every stack in a cdktf output directory. */
export function readSynthesizedUnits(outdir: string): SynthesizedUnit[] {
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) throw errors.noSynthesizedStacks(outdir);
  const units: SynthesizedUnit[] = [];
  for (const stack of fs.readdirSync(stacksDir).sort()) {
    const file = path.join(stacksDir, stack, "cdk.tf.json");
    if (!fs.existsSync(file)) continue;
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw errors.unreadableStack(file, (e as Error).message);
    }
    units.push(...unitsOfStack(stack, json));
  }
  return units;
}

/** Units whose construct path, stack or WebshareHost path is `selector` or lies under it (`demo` selects `demo/venv`, `demo/host` every unit on that host). */
export function selectUnits(units: readonly SynthesizedUnit[], selector: string | undefined): SynthesizedUnit[] {
  if (selector === undefined) return [...units];
  const prefix = selector.replace(/\/+$/, "");
  const under = (p: string) => p === prefix || p.startsWith(`${prefix}/`);
  // A unit's own path, its stack, or its WebshareHost's path (or a prefix of it): every unit on that host.
  return units.filter((u) => under(u.spec.unit) || u.stack === prefix || under(u.spec.host.name));
}
