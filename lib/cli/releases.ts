import { targetOf } from "../ssh/session";
import { loadUnits, UnitSource } from "../drift/load";
import { listKept, pathsOf } from "../lifecycle/kept";
import { summarize } from "../releases/model";
import { renderReleasesText, UnitListing } from "../releases/render";
import type { HostCommandIo } from "./drift";
import { onHostOf } from "./one-host";

/**
 * `webshare releases <construct>`: the venvs and releases each selected unit keeps on its
 * host, newest first, with age, package count (venvs) or file count (apps), what switching
 * to each would change, the one serving and the one `rollback` would switch to. Read only.
 */
export interface ReleasesOptions extends Omit<UnitSource, "selector"> {
  readonly json?: boolean;
}

export async function releasesCommand(selector: string, options: ReleasesOptions, io: HostCommandIo): Promise<number> {
  const units = await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env);
  const listings: UnitListing[] = [];
  for (const { spec } of units) {
    const paths = pathsOf(spec);
    const state = await onHostOf(spec, io, "webshare releases", (ctx) => listKept(ctx, paths));
    listings.push({ unit: spec.unit, kind: spec.kind, target: targetOf(spec.host.connection), link: paths.link, keep: spec.keep, entries: summarize(spec.kind, state) });
  }
  io.write(options.json ? `${JSON.stringify(listings, null, 2)}\n` : renderReleasesText(listings));
  return 0;
}
