import { Testing, TerraformStack } from "cdktf";
import { NullProvider as UpstreamProvider } from "@cdktf/provider-null/lib/provider";
import { Resource as UpstreamResource } from "@cdktf/provider-null/lib/resource";
import { NullProvider, NullResource } from "../../constructs/null-resource";

/**
 * constructs/null-resource.ts replaces @cdktf/provider-null (which would pull cdktf into a
 * cdktn project): the JSON must stay what provider-null synthesizes, for every field the
 * units use (triggers, lifecycle, depends_on, provisioners).
 */
function synth(useUpstream: boolean): unknown {
  const app = Testing.app();
  const stack = new TerraformStack(app, "s");
  const Provider = useUpstream ? UpstreamProvider : NullProvider;
  const Resource = useUpstream ? UpstreamResource : NullResource;
  new Provider(stack, "webshare-null-provider");
  const remove = new Resource(stack, "remove", {
    triggers: { spec: '{"paths":["a"]}' },
    provisioners: [{ type: "local-exec", command: "node x provision destroy", when: "destroy", environment: { A: "${self.triggers.spec}" } }],
  });
  new Resource(stack, "deploy", {
    triggers: { spec: "{}", deploy: "0123456789abcdef", "package:flask": "3.0.0" },
    lifecycle: { createBeforeDestroy: true },
    dependsOn: [remove],
    provisioners: [{ type: "local-exec", command: "node x provision create", workingDir: "../..", environment: { A: "${self.triggers.spec}" } }],
  });
  new Resource(stack, "empty");
  return JSON.parse(Testing.synth(stack));
}

test("our null provider and null_resource synthesize exactly what @cdktf/provider-null does", () => {
  const ours = synth(false);
  expect(ours).toEqual(synth(true));
  expect(JSON.stringify(ours)).toContain('"null_resource"');
});
