import { Construct } from "constructs";
import { hashMapper, hashMapperHcl, stringToHclTerraform, stringToTerraform, TerraformMetaArguments, TerraformProvider, TerraformResource } from "../lib/cdk";

/**
 * The null provider and `null_resource`, synthesizing the same JSON as
 * `@cdktf/provider-null` 11 (test/synth/null-resource.test.ts compares them). Ours because
 * that package peer-depends on `cdktf`: as a dependency it would install cdktf into a CDK
 * Terrain (`cdktn`) project, a second copy of the library.
 */
const GENERATOR = { providerName: "null", providerVersion: "3.2.4", providerVersionConstraint: "~> 3.0" };

export class NullProvider extends TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, { terraformResourceType: "null", terraformGeneratorMetadata: GENERATOR, terraformProviderSource: "null" });
  }

  // No alias: the provider block is empty, as provider-null's is without one.
  protected synthesizeAttributes(): Record<string, unknown> {
    return {};
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {};
  }
}

export interface NullResourceConfig extends TerraformMetaArguments {
  readonly triggers?: Record<string, string>;
}

export class NullResource extends TerraformResource {
  private readonly triggers?: Record<string, string>;

  constructor(scope: Construct, id: string, config: NullResourceConfig = {}) {
    const { triggers, ...meta } = config;
    super(scope, id, { terraformResourceType: "null_resource", terraformGeneratorMetadata: GENERATOR, ...meta });
    this.triggers = triggers;
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { triggers: hashMapper(stringToTerraform)(this.triggers) };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    const triggers = hashMapperHcl(stringToHclTerraform)(this.triggers);
    return triggers === undefined ? {} : { triggers: { value: triggers, isBlock: false, type: "map", storageClassType: "stringMap" } };
  }
}
