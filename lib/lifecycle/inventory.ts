import * as path from "node:path";
import type { HostSpec, UnitSpec } from "../spec";
import { apacheConfigDir, InventorySpec, ownedBy, OwnedPaths, ownedPaths } from "../inventory-spec";
import { removalSpecOf } from "../spec";
import { apacheConfigPath } from "../render/unit-files";
import { pathsOverlap, plumbingProblem } from "../remote-paths";
import { commandLine, quote } from "../shell";
import { errors, type Place } from "../errors";
import type { RemoteSession } from "../ssh/remote-session";
import { plural } from "../plural";
import { abs, StepContext, unitRecordPath } from "./context";
import { removeIfEmpty } from "./switch";
import { hostSeedsDir, hostUnitsDir, removeSeedsScript } from "./pip-seed";
import { unitLockDir, unitLocksDir } from "./host-lock";

/**
 * The host ends up with exactly the units the stack declares. Every deploy records its unit
 * in `~/.webshare/units/*.json`, with the WebshareHost it belongs to and the paths it owns;
 * those records are the list of what the tool put there. The inventory's provisioner (after
 * every unit of the host deployed) removes each recorded unit of this WebshareHost that the
 * stack no longer lists: Apache config first (self-managed: configtest, graceful reload),
 * then its links, content dirs, files and record. A path that a listed unit also owns (a
 * rename that keeps `appDir`) stays. Never database.yml, never a path outside what a record
 * names, never the account's plumbing.
 */

/** What a deploy adds to its unit record so a later inventory can remove the unit. */
export function recordOwnership(spec: UnitSpec): { host: string; owns: OwnedPaths } {
  return { host: spec.host.name, owns: ownedBy(removalSpecOf(spec)) };
}

/** A record file as read from the host. */
export interface RecordFile {
  /** Absolute path of the record. */
  readonly file: string;
  readonly record: unknown;
}

/** One recorded unit the stack no longer declares, and what removing it touches. */
export interface OrphanPlan {
  readonly unit: string;
  readonly kind: "venv" | "app";
  readonly record: string;
  /** Recorded before records named their paths: only the Apache config (derived from the name) and the record go. */
  readonly legacy: boolean;
  readonly links: string[];
  readonly contentDirs: string[];
  readonly files: string[];
  readonly apacheConfig?: string;
  /** Paths kept, and why (owned by a listed unit, not allowed): "<path> of <unit> (<why>)". */
  readonly kept: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The stack part of a construct path ("demo" of "demo/host"). */
const stackOf = (constructPath: string) => constructPath.split("/")[0]!;

/** A home-relative path a record may name for removal: normalised, inside the home, not the account's plumbing. */
function removable(relative: string): boolean {
  return (
    relative !== "" &&
    !relative.startsWith("/") &&
    path.posix.normalize(relative) === relative &&
    !relative.split("/").some((s) => s === ".." || s === ".") &&
    plumbingProblem(relative) === undefined
  );
}

/**
 * Which recorded units to remove (pure). A record belongs to this inventory when it names the
 * same WebshareHost (records from before the inventory: a unit of the same stack), and its
 * file is the one the tool writes for that unit. Listed units are never touched.
 */
export function planPrune(spec: InventorySpec, files: readonly RecordFile[]): OrphanPlan[] {
  const host = spec.host;
  const listed = new Set(spec.units.map((u) => u.unit));
  const listedPaths = spec.units.flatMap((u) => [...u.owns.links, ...u.owns.contentDirs, ...u.owns.files]);
  const listedConfigs = new Set(spec.units.map((u) => u.owns.apacheConfig).filter((c) => c !== undefined));
  const configDir = apacheConfigDir(host);
  const orphans: OrphanPlan[] = [];
  for (const { file, record } of files) {
    if (!isObject(record) || typeof record.unit !== "string" || (record.kind !== "venv" && record.kind !== "app")) continue;
    const unit = record.unit;
    if (listed.has(unit) || file !== unitRecordPath(host, unit)) continue;
    const legacy = record.host === undefined;
    if (legacy ? !unit.startsWith(`${stackOf(host.name)}/`) : record.host !== host.name) continue;
    const parsedOwns = legacy ? undefined : ownedPaths.safeParse(record.owns);
    if (parsedOwns !== undefined && !parsedOwns.success) continue;
    const owns: OwnedPaths = parsedOwns?.data ?? { links: [], contentDirs: [], files: [], ...(record.kind === "app" && { apacheConfig: apacheConfigPath({ unit, host }) }) };
    const kept: string[] = [];
    const keep = (p: string) => {
      if (!removable(p)) kept.push(`${p} of ${unit} (not a path the tool may remove)`);
      else if (listedPaths.some((q) => pathsOverlap(p, q))) kept.push(`${p} of ${unit} (a unit of the stack uses it)`);
      else return true;
      return false;
    };
    let apacheConfig = owns.apacheConfig;
    if (apacheConfig !== undefined && (path.posix.dirname(apacheConfig) !== configDir || !/^webshare-[^/]+\.conf$/.test(path.posix.basename(apacheConfig)) || listedConfigs.has(apacheConfig))) {
      kept.push(`${apacheConfig} of ${unit} (not a config the tool writes on this host)`);
      apacheConfig = undefined;
    }
    orphans.push({
      unit,
      kind: record.kind,
      record: file,
      legacy,
      links: owns.links.filter(keep),
      contentDirs: owns.contentDirs.filter(keep),
      files: owns.files.filter(keep),
      ...(apacheConfig !== undefined && { apacheConfig }),
      kept,
    });
  }
  return orphans.sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0));
}

/** Python: `read_records(dir)` lists every readable unit record as {file, record}. The drift probe runs it too. */
export const READ_RECORDS_FN = String.raw`
import json, os
def read_records(d):
    out = []
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            f = os.path.join(d, n)
            if n.endswith(".json") and os.path.isfile(f) and not os.path.islink(f):
                try:
                    with open(f, encoding="utf-8") as fh:
                        out.append({"file": f, "record": json.load(fh)})
                except (OSError, ValueError):
                    pass
    return out
`;

const READ_RECORDS = `${READ_RECORDS_FN}\nimport sys\nprint(json.dumps(read_records(sys.argv[1])))\n`;

/** The directory of unit records on a host. */
export function recordsDir(host: HostSpec): string {
  return path.posix.dirname(unitRecordPath(host, "x"));
}

/** Shell text that prints every readable unit record of a host as JSON ([{file, record}]). */
export function readRecordsScript(host: HostSpec): string {
  return commandLine([host.python, "-c", READ_RECORDS, recordsDir(host)]);
}

/** Read a host's unit records in one round trip. */
export async function readRecords(ctx: StepContext, host: HostSpec): Promise<RecordFile[]> {
  const result = await ctx.session.run(ctx.place, "read unit records", readRecordsScript(host));
  return JSON.parse(result.stdout) as RecordFile[];
}

/** Shell text removing one orphan's links, content dirs, files and record (not its Apache config). */
export function removeOrphanScript(host: HostSpec, orphan: OrphanPlan): string {
  const parts = [
    ...orphan.links.map((l) => `if [ -L ${quote(abs(host, l))} ]; then ${commandLine(["rm", "-f", abs(host, l)])}; fi`),
    commandLine(["rm", "-rf", ...orphan.contentDirs.map((d) => abs(host, d)), ...orphan.files.map((f) => abs(host, f)), orphan.record]),
    ...orphan.contentDirs.map((d) => removeIfEmpty(path.posix.dirname(abs(host, d)))),
  ];
  return parts.join(" && ");
}

const describe = (o: OrphanPlan) => `${o.unit} (${o.kind})`;

/** One round trip: the host's unit records, and which unit locks are held right now (their dir names). */
async function readInventory(session: RemoteSession, place: Place, host: HostSpec): Promise<{ records: RecordFile[]; busyDirs: ReadonlySet<string> }> {
  const LOCKS = "webshare-unit-locks";
  const read = await session.run(place, "read unit records", `${readRecordsScript(host)} && ${commandLine(["echo", LOCKS])} && { ${commandLine(["ls", "-1", unitLocksDir(host)])} 2>/dev/null; true; }`);
  const [records, locked = ""] = read.stdout.split(`\n${LOCKS}\n`);
  return { records: JSON.parse(records!) as RecordFile[], busyDirs: new Set(locked.split("\n").filter((l) => l !== "")) };
}

/**
 * Remove every recorded unit of this WebshareHost that the inventory does not list. Apache
 * configs go first; on a self-managed host the config test must pass (else they are put
 * back and the run fails, changing nothing else), then a graceful reload, so nothing serves
 * from an orphan before its files go.
 */
export async function pruneOrphans(ctx: StepContext, spec: InventorySpec, options: { unlocked?: RemoteSession } = {}): Promise<OrphanPlan[]> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const noOrphans = () => progress.info(`no orphaned units: the host has only the ${plural(spec.units.length, "unit")} the stack declares`);
  // Most runs find nothing to remove, and that read needs no lock: records are written by a
  // rename, and one written just after this read is one a locked read could miss as well. So
  // the host lock (a round trip of its own to release) is taken only when there is
  // something to remove, and the records are read again under it.
  if (options.unlocked !== undefined && spec.units.length > 0) {
    const peek = await readInventory(options.unlocked, place, host);
    if (planPrune(spec, peek.records).length === 0) {
      noOrphans();
      return [];
    }
  }
  const read = await readInventory(session, place, host);
  const planned = planPrune(spec, read.records);
  // A unit being deployed right now (from a checkout that still has it) keeps its paths: it
  // may be building in them without the host lock. The next inventory removes it.
  const busy = planned.filter((o) => o.contentDirs.some((d) => read.busyDirs.has(path.posix.basename(unitLockDir(host, d)))));
  for (const o of busy) progress.info(`kept ${describe(o)} for now: a deploy into its paths is running (it holds their lock); the next deploy removes it`);
  const orphans = planned.filter((o) => !busy.includes(o));
  if (orphans.length === 0) {
    if (busy.length === 0) noOrphans();
    return orphans;
  }
  const configs = orphans.flatMap((o) => (o.apacheConfig !== undefined ? [o.apacheConfig] : []));
  await progress.step("remove orphaned units", async () => {
    if (configs.length > 0) await removeConfigs(ctx, host, configs);
    // The host's pip seeds go once no venv unit of any stack is left on it.
    const seeds = orphans.some((o) => o.kind === "venv") ? [removeSeedsScript(hostSeedsDir(host), hostUnitsDir(host), unitLocksDir(host), [])] : [];
    await session.run(place, "remove orphaned units", [...orphans.map((o) => `{ ${removeOrphanScript(host, o)}; }`), ...seeds].join(" && "));
  }, () => `(${orphans.map(describe).join(", ")})`);
  for (const o of orphans) {
    if (o.legacy) progress.info(`note: ${o.unit} was recorded by an older webshare-cdktf that did not record its paths: only its Apache config and record were removed; remove its link and directories by hand`);
    for (const k of o.kept) progress.info(`kept ${k}`);
  }
  if (host.apache.mode === "managed" && configs.length > 0) {
    progress.info(`Apache is managed by the hoster: ask them to remove the config of ${orphans.filter((o) => o.apacheConfig !== undefined).map((o) => o.unit).join(", ")}`);
  }
  return orphans;
}

async function removeConfigs(ctx: StepContext, host: HostSpec, configs: readonly string[]): Promise<void> {
  const { session, place } = ctx;
  if (host.apache.mode !== "self") {
    await session.run(place, "remove Apache snippets", commandLine(["rm", "-f", ...configs]));
    return;
  }
  const apache = host.apache;
  const previous = new Map<string, string>();
  for (const c of configs) {
    const read = await session.runRaw(place, "read Apache config", commandLine(["cat", c]));
    if (read.code === 0) previous.set(c, read.stdout);
  }
  await session.run(place, "remove Apache configs", commandLine(["rm", "-f", ...configs]));
  const test = await session.runRaw(place, "Apache configtest", commandLine(apache.testCommand));
  if (test.code !== 0) {
    for (const [c, text] of previous) await session.writeFileAtomic(place, "restore Apache config", c, text);
    throw errors.orphanConfigRemovalRejected(place, [...previous.keys()], `${test.stdout}\n${test.stderr}`.trim());
  }
  await session.run(place, "reload Apache", commandLine(apache.reloadCommand));
}
