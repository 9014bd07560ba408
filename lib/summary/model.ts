/**
 * The summary model of a plan for reviewers: per changed unit, what happens to its packages,
 * requirement lines, files, Apache config, entry point and other settings. Built from the
 * before/after unit specs found in the plan (plan.ts); rendered by render.ts. Pure.
 */
import { type PackageDiff, diffPackages } from "../package-diff";
import { type RequirementLineChange, diffRequirementLines } from "./requirements-diff";
import { APACHE_CONFIG_FIELDS, ENTRY_POINT_FIELDS } from "../render/unit-files";
import { type PlanUnits, type Spec, type UnitAction, type UnitChange, type Value, Opaque, unitsFromPlan } from "./plan";

/** A readable setting that differs, e.g. `daemon.processes` 2 -> 4. */
export interface SettingChange {
  /** Dotted path inside the unit spec; keys that need it are quoted: `staticDirs["/static"]`. */
  readonly setting: string;
  readonly change: "added" | "removed" | "changed";
  /** Rendered values; omitted where only the key is shown (environment values). */
  readonly from?: string;
  readonly to?: string;
}

/** Names (files, wheels) by what happens to them. */
export interface NameChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  /** Present on both sides, but the new content hash is known only after apply. */
  readonly unknown: string[];
}

export interface PackageChanges extends PackageDiff {
  /** Packages whose new version is known only after apply (or sensitive). */
  readonly unknown: string[];
}

export interface VenvChanges {
  readonly kind: "venv";
  /** Whether the unit installs from a lock (then `packages` is the lock's name -> version). */
  readonly hasLock: boolean;
  readonly packages?: PackageChanges;
  readonly requirements: RequirementLineChange[];
  /** The installed text differs although no package or requirement line does (comments, hashes, order). */
  readonly installTextOnly: boolean;
  readonly wheelhouse: NameChanges;
  readonly settings: SettingChange[];
}

export interface AppChanges {
  readonly kind: "app";
  readonly files: NameChanges;
  /** The rendered Apache config changes; `settings` are the readable fields behind it. */
  readonly apacheConfig: { readonly changed: boolean; readonly settings: SettingChange[] };
  /** The rendered WSGI entry point changes (module, callable, environment keys). */
  readonly entryPoint: { readonly changed: boolean; readonly settings: SettingChange[] };
  readonly settings: SettingChange[];
}

export interface UnitSummary {
  /** Construct path, e.g. "demo/venv". */
  readonly unit: string;
  readonly kind: "venv" | "app";
  /** `user@host:port` the unit deploys to (the new spec's, else the old one's), when the plan shows it. */
  readonly host?: string;
  readonly action: UnitAction;
  /** A create-time provisioner runs: files on the host change. */
  readonly redeploys: boolean;
  readonly address: string;
  readonly resourceType: "terraform_data" | "null_resource";
  /** Terraform's action_reason, e.g. "replace_because_tainted". */
  readonly reason?: string;
  /** Some (or all) of the new spec is known only after apply. */
  readonly afterUnknown: boolean;
  /** The whole new spec is marked sensitive: nothing of it is shown. */
  readonly afterSensitive: boolean;
  /** Undefined for a removed unit whose spec is not in the plan, or an unknown one. */
  readonly changes?: VenvChanges | AppChanges;
}

export interface PlanSummary {
  readonly terraformVersion?: string;
  readonly units: UnitSummary[];
  readonly notes: string[];
  readonly hasChanges: boolean;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isRecord = (v: Value | undefined): v is { [key: string]: Value } => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Opaque);

/** A record field of a spec as name -> value (strings, or Opaque where the plan hides it). */
function stringMap(v: Value | undefined): Map<string, string | Opaque> {
  const out = new Map<string, string | Opaque>();
  if (!isRecord(v)) return out;
  for (const [key, value] of Object.entries(v)) out.set(key, value instanceof Opaque || typeof value === "string" ? value : JSON.stringify(value));
  return out;
}

/** Before and after maps; a wholly unknown new map makes every old name unknown (not removed). */
function mapPair(before: Value | undefined, after: Value | undefined): [Map<string, string | Opaque>, Map<string, string | Opaque>] {
  const old = stringMap(before);
  return [old, after instanceof Opaque ? new Map([...old.keys()].map((k) => [k, after])) : stringMap(after)];
}

/** Whether any part of a value is known only after apply. */
function containsUnknown(v: Value | undefined): boolean {
  if (v instanceof Opaque) return v.reason === "unknown";
  if (Array.isArray(v)) return v.some(containsUnknown);
  return isRecord(v) && Object.values(v).some(containsUnknown);
}

function stringList(v: Value | undefined): string[] {
  return Array.isArray(v) ? v.map((line) => (typeof line === "string" ? line : String(line))) : [];
}

function diffNames(before: Map<string, string | Opaque>, after: Map<string, string | Opaque>): NameChanges {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  const unknown: string[] = [];
  for (const name of before.keys()) if (!after.has(name)) removed.push(name);
  for (const [name, value] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (value instanceof Opaque || old instanceof Opaque) {
      if (!Opaque.same(old, value)) unknown.push(name);
    }
    else if (value !== old) changed.push(name);
  }
  return { added: added.sort(compareText), removed: removed.sort(compareText), changed: changed.sort(compareText), unknown: unknown.sort(compareText) };
}

const noNames = (n: NameChanges) => n.added.length + n.removed.length + n.changed.length + n.unknown.length === 0;

function diffPackageMaps(before: Map<string, string | Opaque>, after: Map<string, string | Opaque>): PackageChanges {
  const known = (m: Map<string, string | Opaque>) => Object.fromEntries([...m].filter((e): e is [string, string] => typeof e[1] === "string"));
  const unknown = [...after].filter(([, v]) => v instanceof Opaque).map(([name]) => name);
  // An unknown version is neither added nor removed: keep its old value out of the diff too.
  const old = known(before);
  for (const name of unknown) delete old[name];
  const diff = diffPackages(old, known(after));
  return { ...diff, unknown: unknown.sort(compareText), hasChanges: diff.hasChanges || unknown.length > 0 };
}

/** `a.b`, `a["/static"]`: identifiers dotted, anything else quoted. */
function settingPath(path: readonly string[]): string {
  return path.map((seg, i) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? (i === 0 ? seg : `.${seg}`) : `[${JSON.stringify(seg)}]`)).join("");
}

function render(v: Value | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Opaque) return v.toString();
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Leaves of a spec as path -> value; arrays are leaves (compared whole). */
function leaves(v: Value | undefined, path: string[] = [], out = new Map<string, { path: string[]; value: Value }>()): Map<string, { path: string[]; value: Value }> {
  if (isRecord(v)) for (const [key, item] of Object.entries(v)) leaves(item, [...path, key], out);
  else if (v !== undefined && path.length > 0) out.set(JSON.stringify(path), { path, value: v });
  return out;
}

/** Unknown values may differ; sensitive ones compare by their hidden fingerprint. */
const sameValue = (a: Value, b: Value) => (a instanceof Opaque || b instanceof Opaque ? Opaque.same(a, b) : JSON.stringify(a) === JSON.stringify(b));

/**
 * Every leaf of the spec that differs, except those under a `skip` path (dotted, e.g.
 * "files"), which are reported elsewhere. Under a `keysOnly` field only keys are named.
 */
function settingChanges(before: Spec | undefined, after: Spec | undefined, skip: readonly string[], keysOnly: readonly string[] = []): SettingChange[] {
  const old = leaves(before);
  const now = leaves(after);
  const skipped = (path: readonly string[]) => skip.some((s) => s.split(".").every((part, i) => path[i] === part));
  const hideValue = (path: readonly string[]) => keysOnly.includes(path[0]!);
  const out: SettingChange[] = [];
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const a = old.get(key);
    const b = now.get(key);
    const path = (a ?? b)!.path;
    if (skipped(path)) continue;
    if (a && b && sameValue(a.value, b.value)) continue;
    const change = !a ? "added" : !b ? "removed" : "changed";
    const hide = hideValue(path);
    out.push({
      setting: settingPath(path),
      change,
      ...(!hide && a && { from: render(a.value) }),
      ...(!hide && b && { to: render(b.value) }),
    });
  }
  return out.sort((x, y) => compareText(x.setting, y.setting));
}

const IDENTITY = ["kind", "specVersion", "unit"];
const VENV_HANDLED = [...IDENTITY, "packages", "requirements", "installSha256", "wheelhouseFiles"];
const APP_HANDLED = [...IDENTITY, "files", "apacheConfigSha256", "entryPointSha256"];
/** Readable fields rendered into the Apache config and the entry point: the renderers' own lists (environment by key only). */
const APACHE_FIELDS: readonly string[] = APACHE_CONFIG_FIELDS.filter((f) => !IDENTITY.includes(f));
const ENTRY_FIELDS: readonly string[] = ENTRY_POINT_FIELDS.filter((f) => !IDENTITY.includes(f));
const pick = (changes: SettingChange[], fields: readonly string[]) =>
  changes.filter((c) => fields.some((f) => c.setting === f || c.setting.startsWith(`${f}.`) || c.setting.startsWith(`${f}[`)));

/** On create, the few settings that say where a new unit goes. */
function createdSettings(after: Spec, fields: readonly string[]): SettingChange[] {
  return settingChanges(undefined, after, []).filter((c) => fields.includes(c.setting));
}

/** The unit is deleted (or no longer managed): its settings are not listed one by one. */
const gone = (change: UnitChange) => change.action === "delete" || change.action === "forget";

function venvChanges(change: UnitChange): VenvChanges {
  const { before, after } = change;
  const hasLock = isRecord(after?.packages) || isRecord(before?.packages) || after?.packages instanceof Opaque;
  const packages = hasLock ? diffPackageMaps(...mapPair(before?.packages, after?.packages)) : undefined;
  // Wholly unknown requirement lines: nothing to compare (the unit says some settings are unknown).
  const requirements = after?.requirements instanceof Opaque ? [] : diffRequirementLines(stringList(before?.requirements), stringList(after?.requirements));
  const installChanged = before !== undefined && after !== undefined && !sameValue(before.installSha256 ?? null, after.installSha256 ?? null);
  const settings = change.action === "create" ? createdSettings(after!, ["venvPath", "host.python"]) : gone(change) ? [] : settingChanges(before, after, VENV_HANDLED);
  return {
    kind: "venv",
    hasLock,
    ...(packages && { packages }),
    requirements,
    installTextOnly: installChanged && !packages?.hasChanges && requirements.length === 0,
    wheelhouse: diffNames(...mapPair(before?.wheelhouseFiles, after?.wheelhouseFiles)),
    settings,
  };
}

function appChanges(change: UnitChange): AppChanges {
  const { before, after } = change;
  if (gone(change)) {
    return { kind: "app", files: diffNames(stringMap(before?.files), new Map()), apacheConfig: { changed: true, settings: [] }, entryPoint: { changed: true, settings: [] }, settings: [] };
  }
  const differs = (field: string) => before === undefined || after === undefined || !sameValue(before[field] ?? null, after[field] ?? null);
  const all = settingChanges(before, after, APP_HANDLED, ["environment"]);
  const apache = pick(all, APACHE_FIELDS);
  const entry = pick(all, ENTRY_FIELDS);
  const created = change.action === "create";
  return {
    kind: "app",
    files: diffNames(...mapPair(before?.files, after?.files)),
    apacheConfig: { changed: differs("apacheConfigSha256"), settings: created ? [] : apache },
    entryPoint: { changed: differs("entryPointSha256"), settings: created ? [] : entry },
    settings: created
      ? createdSettings(after!, ["mount", "appDir", "daemon.processes", "daemon.threads"])
      : all.filter((c) => !apache.includes(c) && !entry.includes(c)),
  };
}

/** Whether a changed unit has anything to show besides its action. */
export function hasDetails(changes: VenvChanges | AppChanges): boolean {
  if (changes.kind === "venv") {
    return !!changes.packages?.hasChanges || changes.requirements.length > 0 || changes.installTextOnly || !noNames(changes.wheelhouse) || changes.settings.length > 0;
  }
  return !noNames(changes.files) || changes.apacheConfig.changed || changes.apacheConfig.settings.length > 0 || changes.entryPoint.changed || changes.entryPoint.settings.length > 0 || changes.settings.length > 0;
}

/** `user@host:port` of a spec's connection, if the plan shows it. */
function targetOf(spec: Spec | undefined): string | undefined {
  const connection = isRecord(spec?.host) ? spec.host.connection : undefined;
  if (!isRecord(connection) || typeof connection.host !== "string") return undefined;
  const user = typeof connection.user === "string" ? `${connection.user}@` : "";
  const port = typeof connection.port === "number" ? `:${connection.port}` : "";
  return `${user}${connection.host}${port}`;
}

export function summarizeUnits(units: PlanUnits): PlanSummary {
  const summaries: UnitSummary[] = [];
  for (const change of units.changes) {
    const afterUnknown = change.afterOpaque?.reason === "unknown" || containsUnknown(change.after);
    const hasSpecs = gone(change) ? change.before !== undefined : change.after !== undefined;
    const changes = hasSpecs ? (change.kind === "venv" ? venvChanges(change) : appChanges(change)) : undefined;
    const host = targetOf(change.after) ?? targetOf(change.before);
    summaries.push({
      unit: change.unit,
      kind: change.kind,
      ...(host !== undefined && { host }),
      action: change.action,
      redeploys: change.action === "create" || change.action === "replace",
      address: change.address,
      resourceType: change.resourceType,
      ...(change.reason !== undefined && { reason: change.reason }),
      afterUnknown,
      afterSensitive: change.afterOpaque?.reason === "sensitive",
      ...(changes && { changes }),
    });
  }
  return {
    ...(units.terraformVersion !== undefined && { terraformVersion: units.terraformVersion }),
    units: summaries,
    notes: units.notes,
    hasChanges: summaries.length > 0,
  };
}

/** Plan JSON (already parsed) -> summary. Throws PlanFormatError for JSON that is not a plan. */
export function summarizePlan(plan: unknown): PlanSummary {
  return summarizeUnits(unitsFromPlan(plan));
}
