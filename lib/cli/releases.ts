import { targetOf } from "../ssh/session";
import { loadUnits, UnitSource } from "../stacks/load";
import { listKept, pathsOf } from "../lifecycle/kept";
import { summarize } from "../releases/model";
import { renderReleasesText, UnitListing } from "../releases/render";
import { HostCommandIo, onEachHost } from "../host/each-host";
import type { SynthesizedUnit } from "../stacks/read";

/**
 * `webshare releases <construct>`: the venvs and releases each selected unit keeps on its
 * host, newest first, with age, package count (venvs) or file count (apps), what switching
 * to each would change, the one serving and the one `rollback` would switch to. Read only.
 * One SSH connection per host, hosts in parallel (500 apps on 10 hosts: 10 logins, not 500).
 */
export interface ReleasesOptions extends Omit<UnitSource, "selector"> {
  readonly json?: boolean;
}

export async function releasesCommand(selector: string, options: ReleasesOptions, io: HostCommandIo): Promise<number> {
  const units = await loadUnits({ app: options.app, dir: options.dir, selector }, io.cwd, io.env);
  const listings = await listReleases(units, io);
  io.write(options.json ? `${JSON.stringify(listings, null, 2)}\n` : renderReleasesText(listings));
  return 0;
}

/** What each unit keeps on its host: one session per host (not per unit), hosts in parallel. */
export function listReleases(units: readonly SynthesizedUnit[], io: HostCommandIo): Promise<UnitListing[]> {
  return onEachHost(units, io, "webshare releases", async (ctx, { spec }): Promise<UnitListing> => {
    const paths = pathsOf(spec);
    const state = await listKept(ctx, paths);
    return { unit: spec.unit, kind: spec.kind, target: targetOf(spec.host.connection), link: paths.link, keep: spec.keep, entries: summarize(spec.kind, state) };
  });
}
