import { deployedKeys, differencesFromState } from "../../lib/cdktf/deployed-state";
import type { SynthesizedUnit } from "../../lib/stacks/read";
import type { UnitSpec } from "../../lib/spec";

/** The shape of `tofu state pull` (OpenTofu 1.6) for webshare units. */
const state = (resources: unknown[]) => JSON.stringify({ version: 4, terraform_version: "1.6.2", serial: 3, lineage: "l", outputs: {}, resources });
const terraformData = (name: string, deploy: string | null, extra: Record<string, unknown> = {}) => ({
  mode: "managed",
  type: "terraform_data",
  name,
  provider: 'provider["terraform.io/builtin/terraform"]',
  instances: [{ schema_version: 0, attributes: { id: "x", input: { value: {}, type: "object" }, triggers_replace: deploy === null ? null : { value: { deploy }, type: ["object", { deploy: "string" }] } }, ...extra }],
});
const unit = (name: string, address: string, deployKey: string): SynthesizedUnit => ({ stack: "demo", address, spec: { unit: name } as unknown as UnitSpec, deployKey });

describe("the deployed state of a stack's units", () => {
  test("deploy keys by address: terraform_data's dynamic triggers_replace, null_resource's triggers; remove resources have none", () => {
    const keys = deployedKeys(
      state([
        terraformData("venv_deploy_C546ADFE", "a0543ff15ca7baff"),
        terraformData("venv_remove_5D2035E7", null),
        terraformData("app_deploy_8C7201CF", "537b38b4354b8931", { status: "tainted" }),
        { mode: "managed", type: "null_resource", name: "x_deploy_00000000", instances: [{ attributes: { triggers: { deploy: "1111", spec: "{}" } } }] },
        { mode: "data", type: "terraform_data", name: "ignored", instances: [{ attributes: { triggers_replace: { value: { deploy: "no" } } } }] },
      ]),
    );
    expect([...keys]).toEqual([
      ["terraform_data.venv_deploy_C546ADFE", "a0543ff15ca7baff"],
      ["terraform_data.app_deploy_8C7201CF", "537b38b4354b8931"],
      ["null_resource.x_deploy_00000000", "1111"],
    ]);
    expect(deployedKeys("").size).toBe(0);
  });

  test("a deposed instance (the old half of a replacement) is not what is deployed", () => {
    const current = terraformData("app_deploy_8C7201CF", "new");
    const old = terraformData("app_deploy_8C7201CF", "old", { deposed: "00000001" });
    const r = { ...current, instances: [...old.instances, ...current.instances] };
    expect(deployedKeys(state([r])).get("terraform_data.app_deploy_8C7201CF")).toBe("new");
  });

  test("differences name each unit: another deploy since, or never deployed with this backend", () => {
    const deployed = new Map([["terraform_data.app_deploy_8C7201CF", "537b38b4354b8931"]]);
    expect(differencesFromState([unit("demo/app", "terraform_data.app_deploy_8C7201CF", "537b38b4354b8931")], deployed)).toEqual([]);
    expect(differencesFromState([unit("demo/app", "terraform_data.app_deploy_8C7201CF", "ffffffffffffffff"), unit("demo/venv", "terraform_data.venv_deploy_C546ADFE", "a0543ff15ca7baff")], deployed)).toEqual([
      "demo/app: synthesized here as deploy ffffffffffffffff, deployed as 537b38b4354b8931",
      "demo/venv: not in the state (never deployed with this stack's backend)",
    ]);
  });
});
