import type { AppUnitSpec } from "../spec";
import { quote } from "../shell";
import { errors } from "../errors";
import { abs, StepContext } from "./context";
import type { ReleaseAtHand } from "./release-commands";
import { appEnvArgs, stopGroupScript, stoppableScript, TIMED_OUT } from "./stoppable";

/**
 * The import check: before the switch, import the app's `module:callable` from the NEW
 * release with the venv's interpreter on the host, the release dir first on sys.path, the
 * release dir as cwd and the app's environment set (what the entry point does before its
 * import; the entry point's own health code is not run). A module that raises at import
 * (or whose callable is missing) fails the deploy while the previous release still serves,
 * with the traceback's tail; one that hangs is stopped by `timeout` after
 * `WEBSHARE_IMPORT_CHECK_SECONDS` (60). So a crash or hang at import costs no failed request.
 */

export const DEFAULT_IMPORT_CHECK_SECONDS = 60;

/** Runs in the venv's python: argv = release dir, module, callable. */
const IMPORT_PY = `import importlib, sys
release, module, name = sys.argv[1:4]
sys.path.insert(0, release)
sys.argv = [release]
try:
    app = getattr(importlib.import_module(module), name)
except BaseException:
    import traceback
    traceback.print_exc()
    sys.exit(3)
if not callable(app):
    print("%s:%s is a %s, not a WSGI callable" % (module, name, type(app).__name__), file=sys.stderr)
    sys.exit(4)
`;

/** Seconds the import may take: `WEBSHARE_IMPORT_CHECK_SECONDS` of the deploying environment, else 60. */
export function importCheckSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env.WEBSHARE_IMPORT_CHECK_SECONDS;
  if (raw === undefined || raw === "") return DEFAULT_IMPORT_CHECK_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw errors.invalidSetting("WEBSHARE_IMPORT_CHECK_SECONDS", raw, "a whole number of seconds, 1-3600");
  return seconds;
}

/** The import check as a step of a staged command (lifecycle/staged-script.ts); undefined when the app turned it off. */
export interface ImportCheck {
  readonly script: string;
  /** `module:callable`, for messages. */
  readonly entry: string;
  readonly seconds: number;
  /** Shell text that stops it (an interrupt while it runs: StepContext.abortScripts). */
  readonly stop: string;
}

export function importCheckOf(ctx: StepContext, spec: AppUnitSpec, release: ReleaseAtHand): ImportCheck | undefined {
  if (spec.importCheck === false) return undefined;
  const seconds = importCheckSeconds(ctx.env);
  const python = `${abs(spec.host, spec.venvPath)}/bin/python`;
  const pidFile = `${release.releaseDir}.import-pid`;
  return {
    script: `cd ${quote(release.releaseDir)} && unset PYTHONHOME PYTHONPATH && { ${stoppableScript(pidFile, seconds, [...appEnvArgs(spec), python, "-c", IMPORT_PY, release.releaseDir, spec.module, spec.callable])}; }`,
    entry: `${spec.module}:${spec.callable}`,
    seconds,
    stop: stopGroupScript(pidFile),
  };
}

/** The progress line's detail of an import check that ended with `code`. */
export function importCheckDetail(check: ImportCheck, code: number): string {
  return `(${check.entry}${code === 0 ? " imports" : " FAILED"})`;
}

/** The deploy's error for an import check that exited `code` (not 0) with `output`. */
export function importCheckError(ctx: StepContext, check: ImportCheck, release: ReleaseAtHand, code: number, output: string): Error {
  const why = TIMED_OUT.includes(code)
    ? `did not finish within ${check.seconds}s (a hang at import: it was stopped)`
    : code === 3 || code === 4
      ? `failed: ${lastLine(output)}`
      : `failed (exit ${code})`;
  return errors.importCheckFailed(ctx.place, check.entry, release.releaseId, why, output);
}

/** The exception line of a traceback (its last non-empty line). */
function lastLine(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines[lines.length - 1] ?? "no output";
}
