import { App, Testing, TerraformStack } from "cdktf";
import { ApacheMode, Venv, WebshareHost } from "../../constructs";

/**
 * The host's freeze.txt is the record (`webshare freeze` fetches it); a local copy is opt-in,
 * and never one file for two Venvs (each deploy would overwrite the other's, last writer wins).
 */
const FINGERPRINT = "SHA256:" + "A".repeat(43);
const LOCK = "test/fixtures/apps/blog/requirements.lock";
const hostIn = (stack: TerraformStack, id: string, name: string) =>
  new WebshareHost(stack, id, { host: name, user: "www", hostKey: FINGERPRINT, apache: ApacheMode.managed() });

function venvInputs(stack: TerraformStack): Record<string, any>[] {
  const all = JSON.parse(Testing.synth(stack)).resource.terraform_data as Record<string, { input: any }>;
  return Object.entries(all)
    .filter(([name]) => name.includes("_deploy_"))
    .map(([, r]) => r.input)
    .filter((input) => input.kind === "venv");
}

test("by default no local freeze file is written, and the old default stays out of app uploads", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "site");
  const venv = new Venv(stack, "venv", { host: hostIn(stack, "host", "web.example.com"), lock: LOCK });
  expect(venvInputs(stack).map((i) => i.localFreezeFile)).toEqual([undefined]);
  expect(venv.localFiles).toContain("test/fixtures/apps/blog/freeze.txt");
});

test("a localFreezeFile that is set is written by the deploy", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "site");
  new Venv(stack, "venv", { host: hostIn(stack, "host", "web.example.com"), lock: LOCK, localFreezeFile: "out/freeze.txt" });
  expect(venvInputs(stack).map((i) => i.localFreezeFile)).toEqual(["out/freeze.txt"]);
});

test("two Venvs naming one localFreezeFile are refused at synth, naming both, even on two hosts in two stacks", () => {
  const app = new App({ outdir: "cdktf.out" });
  const one = new TerraformStack(app, "one");
  const two = new TerraformStack(app, "two");
  new Venv(one, "venv", { host: hostIn(one, "host", "a.example.com"), lock: LOCK, localFreezeFile: "out/freeze.txt" });
  expect(() => new Venv(two, "venv", { host: hostIn(two, "host", "b.example.com"), lock: LOCK, localFreezeFile: "./out/../out/freeze.txt" })).toThrow(
    /two\/venv: invalid props:\n {2}- localFreezeFile "\.\/out\/\.\.\/out\/freeze\.txt" is already written by one\/venv/,
  );
  // Own files per Venv are fine, and so is the same name in another app.
  new Venv(two, "venv2", { host: hostIn(two, "host2", "b.example.com"), lock: LOCK, localFreezeFile: "out/two.txt" });
  const other = new TerraformStack(new App({ outdir: "cdktf.out" }), "three");
  expect(() => new Venv(other, "venv", { host: hostIn(other, "host", "c.example.com"), lock: LOCK, localFreezeFile: "out/freeze.txt" })).not.toThrow();
});
