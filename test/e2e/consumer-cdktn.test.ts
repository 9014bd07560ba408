import * as fs from "node:fs";
import * as path from "node:path";
import { ConsumerProject, consumerProject } from "../support/consumer-project";
import { httpGet, localHost, REPO, resetHome, Target } from "../support/local-host";

/**
 * The package in a CDK Terrain project (cdktn 0.24, the community fork of CDKTF, which
 * HashiCorp deprecated on 2025-12-10): the tarball installed with cdktn and constructs and
 * no cdktf at all; the consumer's stack imports cdktn. `webshare deploy` synthesizes and
 * deploys it (it needs no CDK CLI). Not tested here: cdktn-cli itself (`cdktn deploy`), which
 * needs Node >= 22.19 (on this machine's Node 20 it crashes at start: undici's
 * markAsUncloneable); a test that ran only on another Node would be a skipped check here.
 */

let target: Target;
let project: ConsumerProject;
const webshare = (args: string[]) => project.run(path.join(project.dir, "node_modules/.bin/webshare"), args);

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  // cdktn 0.24 accepts constructs >=10.6 <10.8.
  project = consumerProject("cdktn", ["cdktn@0.24", "constructs@~10.7.0"], target);
}, 300_000);

afterAll(() => project?.remove());

const served = async () => [(await httpGet(target.url)).body, (await httpGet(target.url + "api")).body];

test("one copy of the CDK library: cdktn, and no cdktf brought in by webshare-cdktf", () => {
  expect(fs.existsSync(path.join(project.dir, "node_modules/cdktn"))).toBe(true);
  expect(fs.existsSync(path.join(project.dir, "node_modules/cdktf"))).toBe(false);
  expect(fs.existsSync(path.join(project.dir, "node_modules/webshare-cdktf/node_modules"))).toBe(false);
  const loaded = project.run("node", ["-e", 'require("cdktn"); console.log(require("./node_modules/webshare-cdktf/dist/lib/cdk").cdkLibrary)']);
  expect(loaded.output.trim()).toBe("cdktn");
});

test("webshare deploy synthesizes the cdktn app from cdktf.json and deploys both apps; again, nothing to do", async () => {
  const deployed = webshare(["deploy", "--auto-approve", "consumer"]);
  expect({ code: deployed.code, output: deployed.code === 0 ? "" : deployed.output }).toEqual({ code: 0, output: "" });
  const synthesized = fs.readFileSync(path.join(project.dir, "cdktf.out/stacks/consumer/cdk.tf.json"), "utf8");
  expect(synthesized).toContain('"WEBSHARE_CLI": "node_modules/webshare-cdktf/dist/lib/cli/main.js"');
  expect(synthesized).not.toContain(REPO);
  expect(await served()).toEqual(["shop: greeting 1.0.0", "api: greeting 2.0.0"]);

  const again = webshare(["deploy", "consumer"]);
  expect(again.output).toContain("webshare deploy: consumer has no changes: nothing to apply");
  expect(again.code).toBe(0);
});
