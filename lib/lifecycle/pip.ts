import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { randomBytes } from "node:crypto";
import { commandLine } from "../shell";
import { abs, StepContext, stepFailed } from "./context";
import { plural } from "../plural";

/**
 * pip's argv, built in one place: the quiet, non-interactive invocation of a venv's pip, the
 * package source options of a Venv, and the wheelhouse upload those options point at.
 */

/** `python -m pip` without the version check and prompts (a deploy has nobody to answer). */
export function pipCommand(python: string): string[] {
  return [python, "-m", "pip", "--disable-pip-version-check", "--no-input"];
}

/** `pip freeze --local` of a venv: what is really installed in it, pip's own tools left out. */
export function pipFreezeCommand(python: string): string[] {
  return [...pipCommand(python), "freeze", "--local"];
}

export function pipSourceArgs(spec: Pick<VenvUnitSpec, "source">, remoteWheelhouse: string | undefined): string[] {
  const args: string[] = [];
  if (spec.source.indexUrl !== undefined) args.push("--index-url", spec.source.indexUrl);
  for (const url of spec.source.extraIndexUrls) args.push("--extra-index-url", url);
  if (spec.source.noIndex) args.push("--no-index");
  if (remoteWheelhouse !== undefined) args.push("--find-links", remoteWheelhouse);
  return args;
}

/** The host's wheelhouse (absolute), shared by the Venvs of the host; undefined when the venv has no wheelhouse. */
export function hostWheelhouse(spec: Pick<VenvUnitSpec, "host" | "source">): string | undefined {
  return spec.source.wheelhouse === undefined ? undefined : abs(spec.host, `${spec.host.stateDir}/wheelhouse`);
}

/** Shell text making a host's wheelhouse dir if need be, then listing its file names. */
export function wheelhouseListingScript(wheelhouse: string): string {
  return `${commandLine(["mkdir", "-p", wheelhouse])} && ${commandLine(["ls", "-1", wheelhouse])}`;
}

/**
 * Upload the wheels the host's wheelhouse lacks (by name; wheels are immutable) and return
 * its remote path, or undefined when the venv has no wheelhouse. The wheels go to a dir of
 * this run's own inside the wheelhouse (`.incoming-<random>`: pip's `--find-links` does not
 * look into subdirs), then into place by rename: a pip of another unit of the host, which
 * runs without the host lock (lifecycle/host-lock.ts), never sees a half-written wheel.
 * `present`: the wheelhouse's names as already read in this run (lifecycle/venv.ts reads
 * them with the probe); without it they are read first, one round trip more.
 */
export async function uploadWheelhouse(ctx: StepContext, spec: VenvUnitSpec, present?: ReadonlySet<string>): Promise<string | undefined> {
  const wheelhouse = hostWheelhouse(spec);
  if (wheelhouse === undefined) return undefined;
  const { session, place, progress } = ctx;
  const incoming = `${wheelhouse}/.incoming-${randomBytes(6).toString("hex")}`;
  const names = Object.keys(spec.wheelhouseFiles);
  // Incoming dirs of runs whose connection dropped go after a day.
  const staleIncoming = `{ ${commandLine(["find", wheelhouse, "-mindepth", "1", "-maxdepth", "1", "-name", ".incoming-*", "-mmin", "+1440", "-exec", "rm", "-rf", "{}", "+"])} 2>/dev/null; true; }`;
  await progress.long("upload wheelhouse", async () => {
    let listed = present;
    if (listed === undefined) {
      // One round trip: the listing, and the stale incoming dirs removed.
      const listing = await session.run(place, "upload wheelhouse", `${wheelhouseListingScript(wheelhouse)} && ${staleIncoming}`);
      listed = new Set(listing.stdout.split("\n"));
    }
    const missing = names.filter((name) => !listed.has(name));
    if (missing.length === 0) return 0;
    // One exchange: the incoming dir, the wheels, then into place.
    const into = `${commandLine(["mv", "-f", ...missing.map((name) => `${incoming}/${name}`), `${wheelhouse}/`])} && ${commandLine(["rmdir", incoming])}`;
    const moved = await session.runWithFiles(place, "upload wheelhouse", {
      before: `${commandLine(["mkdir", "-p", incoming])} && ${staleIncoming}`,
      files: missing.map((name) => ({ local: path.resolve(spec.source.wheelhouse!, name), remote: `${incoming}/${name}` })),
      script: into,
    });
    if (moved.code !== 0) throw await stepFailed(ctx, "upload wheelhouse", into, moved.code, `${moved.stdout}\n${moved.stderr}`);
    return missing.length;
  }, (n) => `(${n} new of ${plural(names.length, "wheel")})`);
  return wheelhouse;
}
