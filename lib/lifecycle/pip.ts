import * as path from "node:path";
import type { VenvUnitSpec } from "../spec";
import { commandLine } from "../shell";
import { abs, StepContext } from "./context";
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

/**
 * Upload the wheels the host's wheelhouse lacks (by name; wheels are immutable) and return
 * its remote path, or undefined when the venv has no wheelhouse.
 */
export async function uploadWheelhouse(ctx: StepContext, spec: VenvUnitSpec): Promise<string | undefined> {
  if (spec.source.wheelhouse === undefined) return undefined;
  const { session, place, progress } = ctx;
  const wheelhouse = abs(spec.host, `${spec.host.stateDir}/wheelhouse`);
  await progress.long("upload wheelhouse", async () => {
    const listing = await session.run(place, "upload wheelhouse", `${commandLine(["mkdir", "-p", wheelhouse])} && ${commandLine(["ls", "-1", wheelhouse])}`);
    const present = new Set(listing.stdout.split("\n"));
    const missing = Object.keys(spec.wheelhouseFiles).filter((name) => !present.has(name));
    await session.putFiles(place, "upload wheelhouse", missing.map((name) => ({ local: path.resolve(spec.source.wheelhouse!, name), remote: `${wheelhouse}/${name}` })));
    return missing.length;
  }, (n) => `(${n} new of ${plural(Object.keys(spec.wheelhouseFiles).length, "wheel")})`);
  return wheelhouse;
}
