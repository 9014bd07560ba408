import { WebshareError } from "../errors";
import { checkDrift } from "../drift/check";
import { loadUnits } from "../drift/load";
import { exitCodeOf } from "../drift/model";
import { renderDriftMarkdown, renderDriftText } from "../drift/render";

/**
 * `webshare drift`: is every deployed venv and app still what the stacks describe? Prints a
 * table (or JSON, or Markdown) and returns the exit code like `terraform plan
 * -detailed-exitcode`: 0 no drift, 2 drift, 1 error. With --fix it repairs what drifted and
 * the code reflects the state after the fixes.
 */
export interface DriftCommandOptions {
  readonly app?: string;
  readonly dir?: string;
  readonly json?: boolean;
  readonly markdown?: boolean;
  readonly fix?: boolean;
}

/** I/O of the commands that reach hosts (drift, lock). */
export interface HostCommandIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The report. */
  readonly write: (text: string) => void;
  /** Progress of fixes and warnings, one line each (stderr, so --json stays parseable). */
  readonly log: (line: string) => void;
}

export async function driftCommand(options: DriftCommandOptions, io: HostCommandIo): Promise<number> {
  if (options.json && options.markdown) throw new WebshareError("--json and --markdown cannot be combined", "pick one output format");
  const units = await loadUnits({ app: options.app, dir: options.dir }, io.cwd, io.env);
  const report = await checkDrift(units, { fix: options.fix ?? false, env: io.env, log: io.log });
  if (options.json) io.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (options.markdown) io.write(renderDriftMarkdown(report));
  else io.write(renderDriftText(report));
  return exitCodeOf(report);
}
