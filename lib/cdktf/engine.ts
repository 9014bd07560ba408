/**
 * The Terraform or OpenTofu binary cdktf would use: TERRAFORM_BINARY_NAME, else `terraform`
 * (an explicit `--engine` wins).
 */
export function engineBinary(env: NodeJS.ProcessEnv, override?: string): string {
  return override || env.TERRAFORM_BINARY_NAME || "terraform";
}

/**
 * `-no-color` for the engine unless its output goes to a terminal: colour codes only help a
 * terminal, and in a CI log they are noise (NO_COLOR set to anything also turns them off:
 * https://no-color.org).
 */
export function engineColorArgs(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): string[] {
  return isTTY === true && env.NO_COLOR === undefined ? [] : ["-no-color"];
}
