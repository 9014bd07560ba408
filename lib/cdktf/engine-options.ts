import { WebshareError } from "../errors";

/**
 * The engine options `webshare deploy` passes through to plan and apply, validated here so
 * a typo fails before anything runs (pure).
 */
export interface EngineOptions {
  /** -parallelism=N: how many resources (units) the engine works on at once (its default: 10). */
  readonly parallelism?: string | number;
  /** -lock-timeout=D: how long to wait for the state lock, e.g. 30s or 5m (default: fail at once). */
  readonly lockTimeout?: string;
  /** -target=ADDR, repeatable: only these resources (and what they depend on). */
  readonly target?: readonly string[];
}

/** A duration as the engine reads it (Go's time.ParseDuration): 90s, 5m, 1h30m, 500ms. */
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

export function engineOptionArgs(options: EngineOptions): { plan: string[]; apply: string[]; applyPlanFile: string[] } {
  const common: string[] = [];
  if (options.parallelism !== undefined) {
    const text = String(options.parallelism);
    if (!/^[1-9]\d*$/.test(text)) throw new WebshareError(`--parallelism must be a whole number of at least 1, not ${JSON.stringify(text)}`, "e.g. --parallelism 1 to deploy one unit at a time");
    common.push(`-parallelism=${text}`);
  }
  if (options.lockTimeout !== undefined) {
    if (!DURATION.test(options.lockTimeout)) throw new WebshareError(`--lock-timeout must be a duration such as 30s, 5m or 1h, not ${JSON.stringify(options.lockTimeout)}`, "give a number with a unit: ms, s, m or h");
    common.push(`-lock-timeout=${options.lockTimeout}`);
  }
  const targets = (options.target ?? []).map((address) => {
    // An address, never an option: "-target=-destroy" must not become another flag.
    if (address === "" || address.startsWith("-") || /\s/.test(address)) throw new WebshareError(`--target must be a resource address such as terraform_data.app_deploy_8C7201CF, not ${JSON.stringify(address)}`, "see the addresses in the plan, or list them with: tofu state list (in the stack directory)");
    return `-target=${address}`;
  });
  // A saved plan already holds its targets; the engine refuses -target with a plan file.
  return { plan: [...common, ...targets], apply: [...common, ...targets], applyPlanFile: common };
}
