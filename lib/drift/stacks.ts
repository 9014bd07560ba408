import * as fs from "node:fs";
import * as path from "node:path";
import { unitSpec, UnitSpec } from "../spec";
import { errors } from "../errors";
import { TemplateExpressionError, unescapeTemplate, unescapeTemplates } from "../template-escape";
import { describeIssues } from "../props-validation";

/**
 * The webshare units of synthesized stacks (`<outdir>/stacks/<stack>/cdk.tf.json`), read
 * back with the same zod schema the executor uses. A unit is a `deploy` resource: a
 * `terraform_data` whose `input` is the unit spec, or a `null_resource` whose
 * `triggers.spec` holds it as JSON. `remove` resources carry only paths and are skipped.
 * The JSON holds the spec template-escaped (`$${`, `%%{`); it is read back as the text the
 * engine evaluates it to, i.e. what the provisioner receives.
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

/** Units of one parsed cdk.tf.json (pure). A unit that does not validate is an error, never skipped. */
export function unitsOfStack(stack: string, json: unknown): SynthesizedUnit[] {
  const resources = isObject(json) && isObject(json.resource) ? json.resource : {};
  const units: SynthesizedUnit[] = [];
  for (const type of ["terraform_data", "null_resource"]) {
    const byName = resources[type];
    if (!isObject(byName)) continue;
    for (const [name, resource] of Object.entries(byName)) {
      if (!isObject(resource) || !isDeployResource(name, resource)) continue;
      const address = `${type}.${name}`;
      let raw: unknown;
      try {
        raw = candidate(type, resource);
      } catch (e) {
        if (!(e instanceof TemplateExpressionError)) throw e;
        throw errors.unreadableStack(`${stack}: ${address}`, e.message);
      }
      if (raw === undefined) continue;
      const parsed = unitSpec.safeParse(raw);
      if (!parsed.success) {
        throw errors.unreadableStack(`${stack}: ${address}`, describeIssues(parsed.error, raw).join("; "));
      }
      const triggers = type === "terraform_data" ? resource.triggers_replace : resource.triggers;
      const deployKey = isObject(triggers) && typeof triggers.deploy === "string" ? triggers.deploy : undefined;
      units.push({ stack, address, spec: parsed.data, ...(deployKey === undefined ? {} : { deployKey }) });
    }
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

/** Units whose construct path is `selector` or lies under it (`demo` selects `demo/venv`). */
export function selectUnits(units: readonly SynthesizedUnit[], selector: string | undefined): SynthesizedUnit[] {
  if (selector === undefined) return [...units];
  const prefix = selector.replace(/\/+$/, "");
  return units.filter((u) => u.spec.unit === prefix || u.spec.unit.startsWith(`${prefix}/`) || u.stack === prefix);
}
