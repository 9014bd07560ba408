import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unitFromEnvironment } from "../../lib/transport";
import { splitConnection } from "../../lib/spec";
import { deploySpecFromEnvironment, specDigest } from "../../lib/transport";
import { escapeTemplate, escapeTemplates } from "../../lib/template-escape";
import { stableStringify } from "../../lib/hash";
import { appSpec, venvSpec } from "./drift-fixtures";
import { unitsOfStack } from "../../lib/stacks/read";

/** How the provisioner receives its unit: from the stack, checked against the planned digest (lib/transport.ts). */
const machine = { privateKeyPath: "~/.ssh/ci key", passphraseEnv: "CI_PASS", useAgent: false, connectTimeoutSeconds: 30 };
const full = { ...appSpec, host: { ...appSpec.host, connection: { ...appSpec.host.connection, ...machine } }, files: { ...appSpec.files, "${x}.py": "b".repeat(64) } };
const { planned, local } = splitConnection(full);

/** A cdk.tf.json as the synth writes it: escaped input, machine settings in the provisioner's environment. */
function stackWith(input: unknown) {
  return JSON.stringify({
    resource: {
      terraform_data: {
        app_deploy_8C7201CF: {
          "//": { metadata: { path: "site/app/deploy" } },
          input: escapeTemplates(input),
          provisioner: [{ "local-exec": { environment: { WEBSHARE_CONNECTION: escapeTemplate(stableStringify(local)) } } }],
        },
        venv_deploy_C546ADFE: {
          "//": { metadata: { path: "site/venv/deploy" } },
          input: escapeTemplates(splitConnection(venvSpec()).planned),
          provisioner: [{ "local-exec": { environment: { WEBSHARE_CONNECTION: stableStringify(splitConnection(venvSpec()).local) } } }],
        },
      },
    },
  });
}

const env = (overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  WEBSHARE_UNIT_PATH: "site/app",
  WEBSHARE_STACK_DIR: "/project/cdktf.out/stacks/site",
  WEBSHARE_SPEC_SHA256: specDigest(planned),
  WEBSHARE_CONNECTION: stableStringify(local),
  ...overrides,
});

test("the spec is read from the stack dir's cdk.tf.json, unescaped, with the machine's connection joined in", () => {
  const files: string[] = [];
  const received = deploySpecFromEnvironment(env(), (file) => (files.push(file), stackWith(planned)));
  expect(files).toEqual(["/project/cdktf.out/stacks/site/cdk.tf.json"]);
  expect(received.planned).toEqual(planned);
  expect(received.local).toEqual(local);
});

test("a stack whose spec is not the planned one is refused: plan again", () => {
  const edited = { ...planned, files: { ...planned.files, "app.py": "c".repeat(64) } };
  expect(() => deploySpecFromEnvironment(env(), () => stackWith(edited))).toThrow(
    "site/app: the synthesized stack /project/cdktf.out/stacks/site/cdk.tf.json is not the one this plan was made from (its spec for this unit differs from the planned one), so nothing was deployed",
  );
  expect(() => deploySpecFromEnvironment(env({ WEBSHARE_UNIT_PATH: "site/gone" }), () => stackWith(planned))).toThrow("(it has no deploy resource for this unit)");
  expect(() =>
    deploySpecFromEnvironment(env(), () => {
      throw Object.assign(new Error("no such file"), { code: "ENOENT" });
    }),
  ).toThrow("(it cannot be read: ENOENT)");
  expect(() => deploySpecFromEnvironment(env(), () => "{")).toThrow(/\(it is not JSON: /);
});

test("the host identity comes from the plan: WEBSHARE_CONNECTION cannot redirect a deploy", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-transport-"));
  try {
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), stackWith(planned));
    const sneaky = JSON.stringify({ ...local, host: "evil.example", port: 2222 });
    const spec = unitFromEnvironment("create", env({ WEBSHARE_STACK_DIR: dir, WEBSHARE_CONNECTION: sneaky }));
    expect(spec.host.connection).toEqual(full.host.connection);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a spec given whole in WEBSHARE_UNIT (the removal spec, or a run by hand) is used as it is", () => {
  const removal = { kind: "app", specVersion: 1, unit: "site/app", host: planned.host, appDir: "public", releasesDir: "private/releases/public" };
  expect(unitFromEnvironment("destroy", { WEBSHARE_UNIT: JSON.stringify(removal), WEBSHARE_CONNECTION: JSON.stringify(local) }).host.connection).toEqual(full.host.connection);
  // Without WEBSHARE_CONNECTION the spec must carry the whole connection itself.
  expect(unitFromEnvironment("create", { WEBSHARE_UNIT: JSON.stringify(full) })).toEqual(full);
  expect(() => unitFromEnvironment("create", { WEBSHARE_UNIT: JSON.stringify(planned) })).toThrow(/host\.connection\.useAgent/);
  expect(() => unitFromEnvironment("create", {})).toThrow("it is not meant to be run by hand");
});

test("drift and the other stack readers see the whole connection: the plan's identity and this machine's settings", () => {
  const [app, venv] = unitsOfStack("site", JSON.parse(stackWith(planned)));
  expect(app!.spec).toEqual(full);
  expect(venv!.spec).toEqual(venvSpec());
});
