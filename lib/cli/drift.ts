import { WebshareError } from "../errors";
import { checkDrift } from "../drift/check";
import { checkoutOf } from "../checkout";
import { loadUnits } from "../stacks/load";
import { DriftReport, exitCodeOf } from "../drift/model";
import { renderCheckText, renderDriftMarkdown, renderFixText } from "../drift/render";
import type { HostCommandIo } from "../host/each-host";

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
  /** false: --fix acts from this checkout without comparing it with the deployed state. */
  readonly stateCheck?: boolean;
}

export async function driftCommand(options: DriftCommandOptions, io: HostCommandIo): Promise<number> {
  if (options.json && options.markdown) throw new WebshareError("--json and --markdown cannot be combined", "pick one output format");
  // A fix acts on hosts from this checkout: refused when another checkout deployed since.
  const requireDeployed = options.fix && options.stateCheck !== false ? { requireDeployed: "webshare drift --fix" } : {};
  const units = await loadUnits({ app: options.app, dir: options.dir, ...requireDeployed }, io.cwd, io.env);
  const text = !options.json && !options.markdown;
  // On a terminal the findings come first, then the fixes' progress and their result.
  const onChecked = text ? (found: DriftReport) => io.write(renderCheckText(found, { fixing: options.fix })) : undefined;
  // A fix records the checkout's commit like a deploy does (the state check above proved it deployed this code).
  const checkout = options.fix ? checkoutOf(io.cwd) : undefined;
  const report = await checkDrift(units, { fix: options.fix ?? false, env: io.env, log: io.log, ...(checkout !== undefined && { checkout }) }, onChecked);
  if (options.json) io.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (options.markdown) io.write(renderDriftMarkdown(report));
  else if (options.fix) io.write(`\n${renderFixText(report)}`);
  return exitCodeOf(report);
}
