import { Construct } from "constructs";
import { anyToHclTerraform, anyToTerraform, hashMapper, hashMapperHcl, TerraformMetaArguments, TerraformResource, TerraformStack } from "../lib/cdk";
import { execFileSync } from "node:child_process";

/**
 * A `terraform_data` resource that synthesizes the same JSON as cdktf's `DataResource`.
 * It exists because `DataResource` adds a validation to every instance that runs
 * `terraform version` in a child process at synth: two per unit, 400 processes (~18 s) for a
 * 100-app stack. Here the engine is checked once per stack.
 */
export interface TerraformDataConfig extends TerraformMetaArguments {
  readonly input?: Record<string, unknown>;
  readonly triggersReplace?: Record<string, unknown>;
}

const checkedStacks = new WeakSet<TerraformStack>();

export class TerraformData extends TerraformResource {
  private readonly input?: Record<string, unknown>;
  private readonly triggersReplace?: Record<string, unknown>;

  constructor(scope: Construct, id: string, config: TerraformDataConfig) {
    const { input, triggersReplace, ...meta } = config;
    super(scope, id, { terraformResourceType: "terraform_data", terraformGeneratorMetadata: { providerName: "terraform" }, ...meta });
    this.input = input;
    this.triggersReplace = triggersReplace;
    const stack = TerraformStack.of(scope);
    if (!checkedStacks.has(stack)) {
      checkedStacks.add(stack);
      stack.node.addValidation({ validate: () => engineProblems(process.env.TERRAFORM_BINARY_NAME || "terraform") });
    }
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { input: hashMapper(anyToTerraform)(this.input), triggers_replace: hashMapper(anyToTerraform)(this.triggersReplace) };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return { input: hashMapperHcl(anyToHclTerraform)(this.input), triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplace) };
  }
}

/** Problems with `<binary> version` output: terraform_data needs Terraform/OpenTofu >= 1.4. */
export function engineVersionProblems(binary: string, versionOutput: string): string[] {
  const version = /(\d+)\.(\d+)\.\d+/.exec(versionOutput);
  if (version === null) return [`Could not determine the version of ${binary} from "${binary} version"`];
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (major > 1 || (major === 1 && minor >= 4)) return [];
  return [`${binary} ${version[0]} is too old: terraform_data needs Terraform or OpenTofu >= 1.4 (set TERRAFORM_BINARY_NAME to a newer one)`];
}

function engineProblems(binary: string): string[] {
  try {
    return engineVersionProblems(binary, execFileSync(binary, ["version"], { stdio: "pipe" }).toString());
  } catch (e) {
    return [`Could not determine the version of ${binary} ("${binary} version" failed: ${(e as Error).message}); set TERRAFORM_BINARY_NAME to Terraform or OpenTofu >= 1.4`];
  }
}
