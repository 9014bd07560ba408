import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConsumerProject, consumerProject, installedVersion } from "../support/consumer-project";
import { httpGet, localHost, REPO, resetHome, Target } from "../support/local-host";

/**
 * The package as another team gets it: `npm pack`, a fresh cdktf project elsewhere on disk
 * installs the tarball with cdktf and constructs (peer dependencies), composes WebshareHost
 * + two WsgiApps in its own construct tree, and deploys them with OpenTofu. Proves the
 * provisioner command works outside this repository. consumer-cdktn.test.ts does the same
 * with CDK Terrain.
 */
let target: Target;
let project: ConsumerProject;

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  project = consumerProject("cdktf", [`cdktf@${installedVersion("cdktf")}`, `constructs@${installedVersion("constructs")}`], target);
}, 300_000);

afterAll(() => project?.remove());

test("the tarball holds compiled JS, types and the CLI, and nothing from tests", () => {
  const files = execFileSync("tar", ["-tzf", project.tarball], { encoding: "utf8" }).split("\n");
  expect(files).toEqual(expect.arrayContaining(["package/dist/index.js", "package/dist/index.d.ts", "package/dist/lib/cli/main.js", "package/README.md"]));
  expect(files.filter((f) => /test|__snapshots__|fixtures|\.map$|dist\/main\.js/.test(f))).toEqual([]);
  expect(fs.existsSync(path.join(project.dir, "node_modules/.bin/webshare"))).toBe(true);
  // cdktf is the consumer's own copy, the only one: no cdktn, and no provider-null pulling one in.
  expect(fs.existsSync(path.join(project.dir, "node_modules/cdktn"))).toBe(false);
  expect(fs.existsSync(path.join(project.dir, "node_modules/@cdktf/provider-null"))).toBe(false);
});

test("a consumer's own stack with two apps deploys from its own directory", async () => {
  const result = project.run(path.join(REPO, "node_modules/.bin/cdktf"), ["deploy", "--auto-approve", "consumer"]);
  expect(result.code).toBe(0);
  const synthesized = fs.readFileSync(path.join(project.dir, "cdktf.out/stacks/consumer/cdk.tf.json"), "utf8");
  expect(synthesized).toContain('"WEBSHARE_CLI": "node_modules/webshare-cdktf/dist/lib/cli/main.js"');
  expect(synthesized).not.toContain(REPO);
  expect((await httpGet(target.url)).body).toBe("shop: greeting 1.0.0");
  expect((await httpGet(target.url + "api")).body).toBe("api: greeting 2.0.0");
  expect(project.run(path.join(project.dir, "node_modules/.bin/webshare"), ["--version"]).output.trim()).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version);
});
