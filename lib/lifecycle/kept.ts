import * as path from "node:path";
import type { AppRemovalSpec, HostSpec, VenvRemovalSpec } from "../spec";
import { commandLine } from "../shell";
import { errors } from "../errors";
import { abs, StepContext, unitRecordPath, UnitRecord } from "./context";
import type { KeptDir, KeptListing } from "../releases/model";

/**
 * Read, in one round trip, the venvs or releases a unit keeps on its host: which one the
 * symlink serves, the deploy history, and each dir's ready time and freeze / manifest.
 */
export interface UnitPaths {
  readonly kind: "venv" | "app";
  readonly unit: string;
  readonly host: HostSpec;
  /** Home-relative symlink (venv path or app dir) and the dir holding the content-addressed dirs. */
  readonly link: string;
  readonly dir: string;
}

export function pathsOf(spec: VenvRemovalSpec | AppRemovalSpec): UnitPaths {
  return spec.kind === "venv"
    ? { kind: "venv", unit: spec.unit, host: spec.host, link: spec.venvPath, dir: spec.venvsDir }
    : { kind: "app", unit: spec.unit, host: spec.host, link: spec.appDir, dir: spec.releasesDir };
}

/** The copy of requirements.txt a venv keeps, so a rollback can restore it. */
export const VENV_REQUIREMENTS_COPY = ".webshare-requirements.txt";

/** The file in each dir that describes it: pip freeze of a venv, the file manifest of a release. */
export const DETAIL_FILE = { venv: ".webshare-freeze.txt", app: ".webshare-manifest.json" } as const;

const LIST_PY = [
  "import json, os, sys, time",
  "d, link, detail_name, record = sys.argv[1:5]",
  "out = {'now': time.time(), 'current': None, 'history': [], 'dirs': [], 'record': None}",
  "if os.path.islink(link) and os.path.dirname(os.path.realpath(link)) == os.path.realpath(d):",
  "    out['current'] = os.path.basename(os.path.realpath(link))",
  "if os.path.exists(os.path.join(d, '.history')):",
  "    out['history'] = [l.strip() for l in open(os.path.join(d, '.history')) if l.strip()]",
  "for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:",
  "    full = os.path.join(d, name)",
  "    if name.startswith('.') or not os.path.isdir(full) or os.path.islink(full):",
  "        continue",
  "    ready = os.path.join(full, '.webshare-ready')",
  "    entry = {'id': name, 'ready': os.path.exists(ready), 'builtAt': os.stat(ready if os.path.exists(ready) else full).st_mtime}",
  "    if entry['ready'] and os.path.exists(os.path.join(full, detail_name)):",
  "        entry['detail'] = open(os.path.join(full, detail_name), encoding='utf-8', errors='replace').read()",
  "    out['dirs'].append(entry)",
  "if os.path.exists(record):",
  "    out['record'] = open(record, encoding='utf-8').read()",
  "print(json.dumps(out))",
].join("\n");

export interface KeptState extends KeptListing {
  readonly record?: UnitRecord;
}

export async function listKept(ctx: StepContext, unit: UnitPaths): Promise<KeptState> {
  const host = unit.host;
  const argv = [host.python, "-c", LIST_PY, abs(host, unit.dir), abs(host, unit.link), DETAIL_FILE[unit.kind], unitRecordPath(host, unit.unit)];
  const { stdout } = await ctx.session.run(ctx.place, "list kept dirs", commandLine(argv));
  let raw: { now: number; current: string | null; history: string[]; dirs: KeptDir[]; record: string | null };
  try {
    raw = JSON.parse(stdout);
  } catch (e) {
    throw errors.hostAnswerUnreadable(ctx.place, `the kept ${unit.kind === "venv" ? "venvs" : "releases"}`, (e as Error).message, stdout);
  }
  let record: UnitRecord | undefined;
  try {
    record = raw.record === null ? undefined : (JSON.parse(raw.record) as UnitRecord);
  } catch {
    record = undefined;
  }
  return { now: raw.now, current: raw.current ?? undefined, history: raw.history, dirs: raw.dirs, record };
}

/** Absolute path of a kept dir. */
export function keptDir(unit: UnitPaths, id: string): string {
  return path.posix.join(abs(unit.host, unit.dir), id);
}
