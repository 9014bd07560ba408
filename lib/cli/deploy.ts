import { deployStack, DeployIo, DeployOptions } from "../cdktf/deploy";

/**
 * `webshare deploy [stack]`: synthesize and apply one stack like `cdktf deploy` (same state,
 * same provisioners), without the cdktf CLI's start-up; the work is lib/cdktf/deploy.ts.
 * Returns 0 when the stack was applied or had no changes; a failure throws.
 */
export type { DeployIo, DeployOptions };

export function deployCommand(stackName: string | undefined, options: DeployOptions, io: DeployIo): Promise<number> {
  return deployStack(stackName, options, io);
}
