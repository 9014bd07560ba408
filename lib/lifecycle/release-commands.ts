import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { commandLine, quote } from "../shell";
import { errors } from "../errors";
import { plural } from "../plural";
import { abs, StepContext } from "./context";
import { appEnvArgs, stopGroupScript, stoppableScript } from "./stoppable";

/**
 * Release commands (`WsgiApp.releaseCommands`): e.g. `manage.py migrate` and `collectstatic`,
 * run on the host in the NEW release directory before it serves, under the host lock, one
 * after another. Each runs with the venv's `bin` first on PATH (so `python` is the new
 * venv's interpreter: the venv unit switched the venv link before this app unit runs),
 * `VIRTUAL_ENV` set, and the app's `environment` exported and its secret environment loaded,
 * exactly the variables the entry point sets. The first failure stops the deploy before the switch: the previous release
 * keeps serving, and the error names the command, its exit status and its output's tail.
 *
 * A new release holds only copies of the live one's files (lifecycle/release-seed.ts), but a
 * release seeded by an older version of this tool may still share inodes (it used hard
 * links). So before commands write into it, `PREPARE_PY` makes it the release's own: files
 * that are not part of the upload (an old seed's carried-over command output, bytecode
 * caches) are removed, and every remaining file shared with another release gets its own
 * inode, so no command can write through into the release that serves.
 *
 * A release that is already on the host (deployed before, e.g. going forward again after a
 * rollback) runs its commands again: they must be idempotent, as migrate and collectstatic
 * are. When that release is the one serving (only settings outside the release changed),
 * they run in the serving directory.
 */

/** What the steps before the switch need to know about the release (app.ts's target and state fit). */
export interface ReleaseAtHand {
  readonly releaseDir: string;
  readonly releaseId: string;
}
export interface HostBefore {
  /** The release was already on the host and ready: nothing was uploaded. */
  readonly ready: boolean;
  /** Directory the app dir pointed at before this deploy. */
  readonly previousDir?: string;
}

/** Files of a release that are webshare's own, never removed by the preparation. */
const OWN_FILES = [".webshare-manifest.json", ".webshare-ready"];

/**
 * Python (the host's) run in a release dir: with "fresh", remove what is not listed in the
 * manifest (and empty dirs); then give every file with other hard links its own copy.
 */
const PREPARE_PY = `import json, os, shutil, sys
root, fresh = sys.argv[1], sys.argv[2] == "1"
with open(os.path.join(root, ".webshare-manifest.json")) as f:
    keep = set(json.load(f)) | set(sys.argv[3:])
removed = unlinked = 0
for d, dirs, files in os.walk(root, topdown=False):
    for name in files + [n for n in dirs if os.path.islink(os.path.join(d, n))]:
        p = os.path.join(d, name)
        rel = os.path.relpath(p, root)
        if fresh and rel not in keep:
            os.unlink(p)
            removed += 1
        elif not os.path.islink(p) and os.lstat(p).st_nlink > 1:
            tmp = p + ".webshare-unlink"
            shutil.copy2(p, tmp)
            os.replace(tmp, p)
            unlinked += 1
    if fresh and d != root and not os.path.islink(d) and not os.listdir(d):
        os.rmdir(d)
print(removed, unlinked)
`;

export async function runReleaseCommands(ctx: StepContext, spec: AppUnitSpec, release: ReleaseAtHand, before: HostBefore): Promise<void> {
  const commands = spec.releaseCommands ?? [];
  if (commands.length === 0) return;
  const { session, place, progress } = ctx;
  const serving = before.previousDir !== undefined && path.posix.resolve(before.previousDir) === release.releaseDir;
  if (serving) progress.info(`release ${release.releaseId} already serves: its release commands run in the serving directory`);
  else {
    await progress.step(
      "prepare release for commands",
      async () => (await session.run(place, "prepare release for commands", commandLine([spec.host.python, "-c", PREPARE_PY, release.releaseDir, before.ready ? "0" : "1", ...OWN_FILES, ...(spec.sharedPaths?.paths ?? [])]))).stdout.trim().split(" ").map(Number),
      ([removed, unlinked]) => `(${plural(removed ?? 0, "carried-over file")} removed, ${plural(unlinked ?? 0, "shared file")} given its own copy)`,
    );
  }
  const venv = abs(spec.host, spec.venvPath);
  const pidFile = `${release.releaseDir}.command-pid`;
  const stop = stopGroupScript(pidFile);
  for (const [i, argv] of commands.entries()) {
    const shown = commandLine(argv);
    const script =
      `cd ${quote(release.releaseDir)} && PATH=${quote(`${venv}/bin`)}:"$PATH" && VIRTUAL_ENV=${quote(venv)} && export PATH VIRTUAL_ENV && unset PYTHONHOME && { ` +
      stoppableScript(pidFile, 0, [...appEnvArgs(spec), ...argv]) + "; }";
    // Interrupted (Ctrl+C): stop the remote command too, not only this process.
    ctx.abortScripts?.set(stop, "");
    let result;
    try {
      result = await progress.step(`release command ${i + 1}/${commands.length}`, () => session.runRaw(place, "release command", script), (r) => `(${shown}${r.code === 0 ? "" : `: exit ${r.code}`})`);
    } finally {
      ctx.abortScripts?.delete(stop);
    }
    const output = `${result.stdout}${result.stderr}`;
    if (result.code !== 0) throw errors.releaseCommandFailed(place, shown, i + 1, commands.length, result.code, release.releaseId, output);
    for (const line of lastLines(output, 40)) progress.info(`  | ${line}`);
  }
}

/** The last `n` non-empty lines of command output (the output is shown after the command ends). */
function lastLines(output: string, n: number): string[] {
  const lines = output.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  return lines.length > n ? [`... (${lines.length - n} lines before)`, ...lines.slice(-n)] : lines;
}
