import type { Command } from "commander";

/**
 * The options several `webshare` commands share, each declared once here: where the stacks
 * come from, output formats, the state check, a WebshareHost selector, and the engine's
 * pass-through options. A command adds the ones it takes; the names, arguments and help
 * texts stay the same on every command.
 */

/** `--app` / `--dir`: synthesize into a temp dir first, or read the stacks already synthesized (lib/stacks/load.ts). */
export function stackSourceOptions(command: Command): Command {
  return command
    .option("--app <command>", 'synthesize with this cdktf app command first (e.g. "node dist/main.js"), into a temp dir')
    .option("--dir <outdir>", "read the stacks synthesized here", "cdktf.out");
}

/** `--json`: print `what` (the report, the diff, ...) as JSON. */
export function jsonOption(command: Command, what: string): Command {
  return command.option("--json", `print ${what} as JSON`);
}

/** `--markdown`: print `what` as Markdown. */
export function markdownOption(command: Command, what: string): Command {
  return command.option("--markdown", `print ${what} as Markdown`);
}

/** `--no-state-check`: act from this checkout without comparing its stacks with the deployed state; `when` prefixes the help (e.g. "with --fix: "). */
export function stateCheckOption(command: Command, when = ""): Command {
  return command.option("--no-state-check", `${when}do not compare the stacks with the deployed state (Terraform/OpenTofu state pull) first`);
}

/** `--host <construct>`: a WebshareHost construct path, described for this command. */
export function hostOption(command: Command, description: string): Command {
  return command.option("--host <construct>", `${description} (e.g. demo/host)`);
}

/** `[construct]`: the Venvs a command selects. */
export function venvSelectorArgument(command: Command): Command {
  return command.argument("[construct]", "only Venvs at or under this construct path (e.g. demo/venv), or of this stack");
}

/** `--engine` and what is passed through to the engine's plan and apply (lib/cdktf/engine-options.ts). */
export function engineOptions(command: Command): Command {
  return command
    .option("--engine <binary>", "Terraform or OpenTofu binary (default: $TERRAFORM_BINARY_NAME, else terraform)")
    .option("--parallelism <n>", "passed to the engine as -parallelism: how many units deploy at once (engine default 10)")
    .option("--lock-timeout <duration>", "passed to the engine as -lock-timeout, e.g. 10m: wait for another run's state lock instead of failing at once")
    .option("--target <address>", "passed to the engine as -target (repeat it for several): only these resources, e.g. terraform_data.app_deploy_8C7201CF", (value: string, previous: string[] = []) => [...previous, value]);
}
