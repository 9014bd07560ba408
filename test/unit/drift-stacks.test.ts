import { selectUnits, unitsOfStack } from "../../lib/stacks/read";
import { stableStringify } from "../../lib/hash";
import { groupByHost } from "../../lib/drift/hosts";
import { escapeTemplate, escapeTemplates } from "../../lib/template-escape";
import { appSpec, venvSpec } from "./drift-fixtures";

/** Finding units in a synthesized cdk.tf.json: deploy resources only, validated, never skipped silently. */
const stack = {
  resource: {
    terraform_data: {
      venv_deploy_C546ADFE: { "//": { metadata: { path: "site/venv/deploy" } }, input: venvSpec() },
      venv_remove_5D2035E7: { "//": { metadata: { path: "site/venv/remove" } }, input: { kind: "venv", unit: "site/venv" } },
      other: { input: { kind: "something else" } },
    },
    null_resource: {
      app_deploy_8C7201CF: { triggers: { spec: stableStringify(appSpec), "file:app.py": "aaaa" } },
    },
  },
};

test("terraform_data inputs and null_resource spec triggers are units; remove resources are not", () => {
  const units = unitsOfStack("site", stack);
  expect(units.map((u) => [u.address, u.spec.kind, u.spec.unit])).toEqual([
    ["null_resource.app_deploy_8C7201CF", "app", "site/app"],
    ["terraform_data.venv_deploy_C546ADFE", "venv", "site/venv"],
  ]);
});

test("a deploy input that does not validate is an error naming the stack and resource", () => {
  const broken = { resource: { terraform_data: { venv_deploy_C546ADFE: { input: { ...venvSpec(), venvPath: "../escape" } } } } };
  expect(() => unitsOfStack("site", broken)).toThrow(/cannot read the webshare units of site: terraform_data\.venv_deploy_C546ADFE: venvPath "\.\.\/escape" must be a relative path/);
});

test("a construct path selects units at or under it, or a stack by name", () => {
  const units = unitsOfStack("site", stack);
  expect(selectUnits(units, "site/venv").map((u) => u.spec.unit)).toEqual(["site/venv"]);
  expect(selectUnits(units, "site").length).toBe(2);
  expect(selectUnits(units, "site/ven")).toEqual([]);
});

test("units on the same connection share one group, another port is another host", () => {
  const units = unitsOfStack("site", stack);
  const elsewhere = { ...units[1]!, spec: venvSpec({ unit: "other/venv", host: { ...venvSpec().host, connection: { ...venvSpec().host.connection, port: 2222 } } }) };
  const groups = groupByHost([...units, elsewhere]);
  expect(groups.map((g) => [g.target, g.units.map((u) => u.spec.unit)])).toEqual([
    ["www@web.example:22", ["site/app", "site/venv"]],
    ["www@web.example:2222", ["other/venv"]],
  ]);
});

test("specs are read back as the text the engine evaluates them to, not as escaped JSON", () => {
  const app = { ...appSpec, files: { ...appSpec.files, '${file("db.yml")}': "a".repeat(64) }, environment: { TITLE: "%{GROUP} $${x}" } };
  const escaped = {
    resource: {
      terraform_data: { app_deploy_8C7201CF: { input: escapeTemplates(app) } },
      null_resource: { venv_deploy_C546ADFE: { triggers: { spec: escapeTemplate(stableStringify(venvSpec({ requirements: ["x @ https://h/${y}"] }))) } } },
    },
  };
  const [fromData, fromNull] = unitsOfStack("site", escaped); // sorted by unit: site/app, site/venv
  expect(fromData!.spec).toEqual(app);
  expect(fromNull!.spec).toEqual(venvSpec({ requirements: ["x @ https://h/${y}"] }));
});

test("a deploy input holding a real template expression is unreadable, not read as text", () => {
  const stack = { resource: { terraform_data: { app_deploy_8C7201CF: { input: { ...appSpec, module: "${var.x}" } } } } };
  expect(() => unitsOfStack("site", stack)).toThrow(/cannot read the webshare units of site: terraform_data\.app_deploy_8C7201CF: "\$\{var\.x\}" has a template sequence at 0/);
});
