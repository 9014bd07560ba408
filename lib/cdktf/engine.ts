/**
 * The Terraform or OpenTofu binary cdktf would use: TERRAFORM_BINARY_NAME, else `terraform`
 * (an explicit `--engine` wins).
 */
export function engineBinary(env: NodeJS.ProcessEnv, override?: string): string {
  return override || env.TERRAFORM_BINARY_NAME || "terraform";
}
