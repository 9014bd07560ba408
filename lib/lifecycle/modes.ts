import * as path from "node:path";
import type { AppUnitSpec, VenvUnitSpec } from "../spec";
import { commandLine } from "../shell";

/**
 * File modes on a shared host (pure: specs in, modes and shell text out).
 *
 * Who must read what:
 * - the mod_wsgi daemon reads the app code, the entry point and the venv. In both modes the
 *   tool supports it runs AS the deploy user (managed: the hoster's WSGIDaemonProcess
 *   `user=`; self-managed: Apache is started by the user), so these need no group or other
 *   bits at all;
 * - Apache's own workers (www-data on a managed host) stat the entry point and serve the
 *   static dirs: they need o+x on every directory from the home down to those files, and
 *   o+r on the static files only.
 *
 * So, "private" (the default): the release and private dirs are 0711 (traversable, not
 * listable), app files keep only their owner bits (a local 0644 file is 0600 on the host,
 * 0755 is 0700), static files are 0644 (0755 when executable locally: they are public over
 * HTTP anyway), the venvs dir is 0700, and freeze/requirements copies are 0600.
 *
 * "shared": an app whose daemon runs as ANOTHER user (`daemon.user` set to someone else)
 * must let that user read its code and venv; its release dirs are 0755 and its files 0644
 * (0755 executable), as before, and every venv its daemon uses stays traversable. Python
 * cannot import from a directory it cannot list, so nothing in between is possible.
 */
export type Privacy = "private" | "shared";

/** The daemon user of an app when it is not the deploy user (undefined: runs as the deploy user). */
// A deploy user known only at apply (from an ssh config) cannot be proven the same: shared.
export function otherDaemonUser(daemonUser: string | undefined, deployUser: string | undefined): string | undefined {
  return daemonUser !== undefined && daemonUser !== deployUser ? daemonUser : undefined;
}

export function appPrivacy(spec: Pick<AppUnitSpec, "daemon" | "host">): Privacy {
  return otherDaemonUser(spec.daemon.user, spec.host.connection.user) === undefined ? "private" : "shared";
}

export function venvPrivacy(spec: Pick<VenvUnitSpec, "apps">): Privacy {
  return spec.apps.some((a) => a.daemonUser !== undefined) ? "shared" : "private";
}

/** Mode of a directory on the path from the home to a release or venv: traversable, not listable. */
export const PATH_DIR_MODE = 0o711;

/** Whether `relative` (posix, inside the release) is or lies in one of the static dirs. */
export function isStatic(relative: string, staticDirs: readonly string[]): boolean {
  return staticDirs.some((d) => relative === d || relative.startsWith(d + "/"));
}

/**
 * Mode of an uploaded app file from its local mode: owner bits only for private files
 * (never more than the local file allows), 0644/0755 for static files and for a shared app.
 */
export function fileMode(localMode: number, relative: string, staticDirs: readonly string[], privacy: Privacy): number {
  const executable = (localMode & 0o100) !== 0;
  if (privacy === "shared" || isStatic(relative, staticDirs)) return executable ? 0o755 : 0o644;
  return localMode & 0o700;
}

/** Home-relative directories strictly between the home and `dir`, and `dir` itself: a/b/c -> a, a/b, a/b/c. */
export function dirsDownTo(dir: string): string[] {
  const parts = path.posix.normalize(dir).split("/").filter((p) => p !== "" && p !== ".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** Shell text: chmod each home-relative dir (absolute under `home`) that exists. */
export function chmodDirsScript(home: string, dirs: readonly string[], mode: number): string {
  if (dirs.length === 0) return "true";
  return commandLine(["chmod", mode.toString(8).padStart(4, "0"), ...dirs.map((d) => path.posix.join(home, d))]);
}

/**
 * Shell text, run when a release is switched in (and before it is marked ready): the dirs
 * from the home down to the releases dir 0711, then every dir and file of the release to
 * its mode (see the module comment). Files keep their own owner bits (set by the upload from
 * the local mode), so a file hard-linked from an earlier release with looser modes is
 * tightened too. Uses the host's Python: one process, no argv per file.
 */
export function releaseModesScript(python: string, spec: Pick<AppUnitSpec, "host" | "releasesDir" | "staticDirs" | "daemon">, releaseDir: string): string {
  const privacy = appPrivacy(spec);
  const staticDirs = Object.values(spec.staticDirs);
  const py = [
    "import os, stat, sys",
    "root, privacy, statics = sys.argv[1], sys.argv[2], sys.argv[3:]",
    "def static(rel): return any(rel == s or rel.startswith(s + '/') for s in statics)",
    "dmode = 0o711 if privacy == 'private' else 0o755",
    "for d, dirs, files in os.walk(root):",
    "    if stat.S_IMODE(os.lstat(d).st_mode) != dmode: os.chmod(d, dmode)",
    "    rel = os.path.relpath(d, root)",
    "    for f in files:",
    "        full = os.path.join(d, f)",
    "        st = os.lstat(full)",
    "        if not stat.S_ISREG(st.st_mode): continue",
    "        m = stat.S_IMODE(st.st_mode)",
    "        r = f if rel == '.' else rel + '/' + f",
    "        want = (0o755 if m & 0o100 else 0o644) if privacy != 'private' or static(r) else m & 0o700",
    "        if want != m: os.chmod(full, want)",
  ].join("\n");
  return [
    chmodDirsScript(spec.host.home, dirsDownTo(spec.releasesDir), PATH_DIR_MODE),
    commandLine([python, "-c", py, releaseDir, privacy, ...staticDirs]),
  ].join(" && ");
}

/**
 * Shell text, run before a venv is looked for or built: the dirs from the home down to the
 * venvs dir's parent 0711, the venvs dir 0700 (0711 when an app's daemon runs as another
 * user: it must reach the venv, whose own dirs stay 0755).
 */
export function venvDirsScript(spec: Pick<VenvUnitSpec, "host" | "venvsDir" | "apps">): string {
  const venvsDir = spec.venvsDir;
  const abs = path.posix.join(spec.host.home, venvsDir);
  return [
    commandLine(["mkdir", "-p", abs]),
    chmodDirsScript(spec.host.home, dirsDownTo(path.posix.dirname(venvsDir)), PATH_DIR_MODE),
    commandLine(["chmod", venvPrivacy(spec) === "private" ? "0700" : "0711", abs]),
  ].join(" && ");
}
