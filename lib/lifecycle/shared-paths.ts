import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { commandLine, quote } from "../shell";
import { abs } from "./context";
import { appPrivacy, chmodDirsScript, dirsDownTo, PATH_DIR_MODE } from "./modes";

/**
 * `WsgiApp.sharedPaths` on the host: each listed path of the release is a symlink to
 * `<shared dir>/<path>`, a directory created on first use and never emptied or removed by the
 * tool (no prune, inventory or destroy reaches it: it is outside the releases). Runs on every
 * deploy before the import check and the release commands (a migration writes its sqlite
 * file there), also for a release already on the host; a link already right is left alone.
 *
 * Modes (lifecycle/modes.ts): the dirs from the home down to the shared dir 0711, the app's
 * shared dir 0700 ("private": the daemon runs as the deploy user), or 0711 with each shared
 * path 0755 when the daemon runs as another user ("shared"; it can read them; to write, the
 * hoster must give it the rights).
 */

/** Shell text: make the shared dirs and point each path of `releaseDir` at its own. */
export function sharedPathsScript(spec: Pick<AppUnitSpec, "host" | "sharedPaths" | "daemon">, releaseDir: string): string {
  const shared = spec.sharedPaths;
  if (shared === undefined) return "true";
  const root = abs(spec.host, shared.dir);
  const privacy = appPrivacy(spec);
  const steps = [
    commandLine(["mkdir", "-p", ...shared.paths.map((p) => `${root}/${p}`)]),
    chmodDirsScript(spec.host.home, dirsDownTo(path.posix.dirname(shared.dir)), PATH_DIR_MODE),
    commandLine(["chmod", privacy === "private" ? "0700" : "0711", root]),
    ...(privacy === "shared" ? [commandLine(["chmod", "0755", ...shared.paths.map((p) => `${root}/${p}`)])] : []),
  ];
  for (const p of shared.paths) {
    const link = `${releaseDir}/${p}`;
    const to = `${root}/${p}`;
    // Whatever a seed from an earlier release left there (a link, a dir) is replaced, never followed.
    steps.push(`{ [ "$(readlink ${quote(link)})" = ${quote(to)} ] || { ${commandLine(["rm", "-rf", link])} && ${commandLine(["mkdir", "-p", path.posix.dirname(link)])} && ${commandLine(["ln", "-s", to, link])}; }; }`);
  }
  return steps.join(" && ");
}
