import { commandLine } from "../shell";
import { VENV_INIT_PTH_LINE, VENV_INIT_PTH_NAME } from "../render/entry-point";

/**
 * Shell text that puts the `.pth` file into a venv's site-packages (idempotent): Python runs
 * it at start-up and records which venv it started with, so the entry point can report the
 * venv a process really runs, not where the symlink points now.
 */
export function ensureInitRecordScript(venvPython: string): string {
  const py = "import os, sys, sysconfig; open(os.path.join(sysconfig.get_paths()['purelib'], sys.argv[1]), 'w').write(sys.argv[2])";
  return commandLine([venvPython, "-I", "-c", py, VENV_INIT_PTH_NAME, VENV_INIT_PTH_LINE]);
}
