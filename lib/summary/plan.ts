/**
 * Reads the JSON plan representation (`tofu show -json PLANFILE`, `terraform show -json
 * PLANFILE`) and finds the changes to webshare units: the `deploy` resources whose input
 * (terraform_data) or `triggers.spec` (null_resource) is a unit spec. Pure: parsed JSON in.
 *
 * Format reference: Terraform "JSON Output Format", `resource_changes[].change` with
 * `actions`, `before`, `after`, `after_unknown`, `before_sensitive`, `after_sensitive`.
 * Unknown values (`after_unknown`) and sensitive ones (`*_sensitive`) are replaced by an
 * Opaque marker, so nothing sensitive is ever printed and nothing unknown is guessed.
 */
import { sha256Hex, stableStringify } from "../hash";
import { plural } from "../plural";

/** A value the plan does not show: known only after apply, or marked sensitive. */
export class Opaque {
  /**
   * @param fingerprint for a sensitive value, a hash of it: two equal sensitive values
   * compare equal without either being shown. Not serialised.
   */
  constructor(
    readonly reason: "unknown" | "sensitive",
    private readonly fingerprint?: string,
  ) {}

  /** Whether two values are known to be equal: never for unknown ones. */
  static same(a: unknown, b: unknown): boolean {
    return a instanceof Opaque && b instanceof Opaque && a.reason === "sensitive" && b.reason === "sensitive" && a.fingerprint !== undefined && a.fingerprint === b.fingerprint;
  }

  toString(): string {
    return this.reason === "unknown" ? "(known after apply)" : "(sensitive)";
  }
  toJSON(): string {
    return this.toString();
  }
}

export type Value = string | number | boolean | null | Opaque | Value[] | { [key: string]: Value };
export type Spec = { [key: string]: Value };

export type UnitAction = "create" | "update" | "replace" | "delete" | "forget";

/** One change to a unit's `deploy` resource (or its `remove` resource, for a deleted unit). */
export interface UnitChange {
  readonly address: string;
  readonly resourceType: "terraform_data" | "null_resource";
  readonly action: UnitAction;
  /** Terraform's `action_reason`, e.g. "replace_because_tainted". */
  readonly reason?: string;
  readonly unit: string;
  readonly kind: "venv" | "app";
  /** The unit spec before and after; undefined when the resource does not exist on that side. */
  readonly before?: Spec;
  readonly after?: Spec;
  /** The new spec as a whole is not known until apply (or is sensitive). */
  readonly afterOpaque?: Opaque;
}

export interface PlanUnits {
  readonly formatVersion: string;
  readonly terraformVersion?: string;
  readonly changes: UnitChange[];
  /** Things a reviewer should know that are not unit changes (errored plan, deposed objects). */
  readonly notes: string[];
}

export class PlanFormatError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The value with unknown and sensitive parts replaced by Opaque. `unknown`/`sensitive` are
 * the matching `after_unknown`/`*_sensitive` trees: `true` marks the whole value there.
 */
export function mask(value: unknown, unknown: unknown, sensitive: unknown): Value {
  if (sensitive === true) return new Opaque("sensitive", sha256Hex(stableStringify(value ?? null)));
  if (unknown === true) return new Opaque("unknown");
  const at = (tree: unknown, key: string | number) => (isObject(tree) || Array.isArray(tree) ? (tree as Record<string | number, unknown>)[key] : undefined);
  if (Array.isArray(value)) return value.map((item, i) => mask(item, at(unknown, i), at(sensitive, i)));
  if (isObject(value)) {
    const out: { [key: string]: Value } = {};
    const keys = new Set([...Object.keys(value), ...(isObject(unknown) ? Object.keys(unknown).filter((k) => unknown[k] === true) : [])]);
    for (const key of keys) out[key] = mask(value[key], at(unknown, key), at(sensitive, key));
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return null;
}

const ACTIONS: Record<string, UnitAction | "none"> = {
  "no-op": "none",
  read: "none",
  create: "create",
  update: "update",
  delete: "delete",
  "delete,create": "replace",
  "create,delete": "replace",
  forget: "forget",
};

/** A unit spec's identity, if `value` is one (deploy or removal spec). */
function unitOf(value: Value | undefined): { unit: string; kind: "venv" | "app"; deploy: boolean } | undefined {
  if (value === undefined || !isObject(value) || value instanceof Opaque) return undefined;
  const spec = value as Spec;
  if ((spec.kind !== "venv" && spec.kind !== "app") || typeof spec.unit !== "string" || spec.specVersion === undefined) return undefined;
  // Removal specs carry only paths; deploy specs carry what gets installed.
  const deploy = spec.kind === "venv" ? "requirements" in spec || "installSha256" in spec : "files" in spec || "apacheConfigSha256" in spec;
  return { unit: spec.unit, kind: spec.kind, deploy };
}

/** The unit spec inside one side of a resource change: `input`, or the JSON string `triggers.spec`. */
function specIn(type: string, side: Value): Value | undefined {
  if (!isObject(side) || side instanceof Opaque) return side instanceof Opaque ? side : undefined;
  const s = side as Spec;
  if (type === "terraform_data") return s.input;
  const triggers = s.triggers;
  if (triggers instanceof Opaque) return triggers;
  if (!isObject(triggers)) return undefined;
  const spec = (triggers as Spec).spec;
  if (typeof spec !== "string") return spec instanceof Opaque ? spec : undefined;
  try {
    // Sensitivity and unknowns were resolved for the string as a whole.
    return mask(JSON.parse(spec), undefined, undefined);
  } catch {
    return undefined;
  }
}

/**
 * Two deploy resources of one unit: one deleted, one created (the resource moved, e.g. from
 * terraform_data to null_resource). For the host that is one replacement, old spec -> new.
 */
function merge(a: UnitChange, b: UnitChange): UnitChange {
  const [gone, made] = a.action === "delete" ? [a, b] : b.action === "delete" ? [b, a] : [undefined, undefined];
  if (!gone || !made || made.action !== "create") return a;
  return { ...made, action: "replace", ...(gone.before && { before: gone.before }) };
}

export function unitsFromPlan(plan: unknown): PlanUnits {
  if (!isObject(plan)) throw new PlanFormatError("the plan JSON must be an object");
  const formatVersion = plan.format_version;
  if (typeof formatVersion !== "string") throw new PlanFormatError("no format_version: this is not the JSON of a plan");
  if (!formatVersion.startsWith("1.") && formatVersion !== "1") {
    throw new PlanFormatError(`unsupported plan format_version ${JSON.stringify(formatVersion)} (this tool reads 1.x)`);
  }
  const resourceChanges = plan.resource_changes;
  if (resourceChanges === undefined && plan.planned_values === undefined) {
    throw new PlanFormatError("no resource_changes or planned_values: this looks like state JSON, not plan JSON");
  }
  if (resourceChanges !== undefined && !Array.isArray(resourceChanges)) throw new PlanFormatError("resource_changes must be an array");

  const notes: string[] = [];
  if (plan.errored === true) notes.push("The plan errored: it is incomplete, and more may change once it succeeds.");
  const deploys = new Map<string, UnitChange>();
  const removed = new Map<string, UnitChange>();
  let deposed = 0;

  for (const rc of (resourceChanges ?? []) as unknown[]) {
    if (!isObject(rc) || rc.mode !== "managed" || (rc.type !== "terraform_data" && rc.type !== "null_resource")) continue;
    const type = rc.type;
    const change = isObject(rc.change) ? rc.change : {};
    const actions = Array.isArray(change.actions) ? change.actions.join(",") : "";
    const action = ACTIONS[actions];
    if (action === undefined) {
      notes.push(`${String(rc.address)}: unrecognised actions ${JSON.stringify(change.actions)}; not summarised.`);
      continue;
    }
    if (action === "none") continue;
    const before = specIn(type, mask(change.before, undefined, change.before_sensitive));
    const after = specIn(type, mask(change.after, change.after_unknown, change.after_sensitive));
    const id = unitOf(before) ?? unitOf(after);
    if (!id) continue;
    if (rc.deposed !== undefined) {
      // An object left over from an earlier failed replacement: deleting it changes nothing on the host.
      deposed++;
      continue;
    }
    const unitChange: UnitChange = {
      address: String(rc.address),
      resourceType: type,
      action,
      ...(typeof rc.action_reason === "string" && { reason: rc.action_reason }),
      unit: id.unit,
      kind: id.kind,
      ...(isObject(before) && !(before instanceof Opaque) && { before: before as Spec }),
      ...(isObject(after) && !(after instanceof Opaque) && { after: after as Spec }),
      ...(after instanceof Opaque && { afterOpaque: after }),
    };
    if (id.deploy) {
      const other = deploys.get(id.unit);
      deploys.set(id.unit, other ? merge(other, unitChange) : unitChange);
    } else if (action === "delete" || action === "forget") {
      // The remove resource goes away only when the whole unit does.
      if (!removed.has(id.unit)) removed.set(id.unit, { ...unitChange, before: undefined, after: undefined });
    }
  }

  for (const [unit, change] of removed) if (!deploys.has(unit)) deploys.set(unit, change);
  if (deposed > 0) {
    notes.push(`${plural(deposed, "deposed deploy object")} left by an earlier failed deploy will be deleted from the state; this changes nothing on the host.`);
  }
  // Venvs first (apps deploy after their venv), then by construct path.
  const order = (c: UnitChange) => `${c.kind === "venv" ? 0 : 1}${c.unit}`;
  const changes = [...deploys.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    formatVersion,
    ...(typeof plan.terraform_version === "string" && { terraformVersion: plan.terraform_version }),
    changes,
    notes,
  };
}
