import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import { descriptorJsonSchema, parseDescriptor, readDescriptor } from "../../lib/descriptor";
import { ApacheMode, WebshareHost, WsgiApp } from "../../constructs";

const REPO = path.resolve(__dirname, "../../..");
const CLI = path.join(REPO, "dist/lib/cli/main.js");
const ok = { version: 1, entry: "app:app", lock: "requirements.lock" };

describe("parseDescriptor", () => {
  test("a minimal version 1 descriptor is valid", () => {
    expect(parseDescriptor(JSON.stringify(ok))).toEqual({ ok: true, descriptor: ok });
  });

  test.each<[unknown, string]>([
    [{ ...ok, version: 2 }, 'webshare.json has version 2, which this webshare-cdktf does not know (it reads version 1); upgrade webshare-cdktf or write a version 1 descriptor'],
    [{ entry: "app:app" }, 'webshare.json has no "version"; add "version": 1'],
    [{ ...ok, entry: "app" }, 'webshare.json: entry "app" must be "module:callable"'],
    [{ ...ok, python: "3" }, 'webshare.json: python "3" must be a Python version "3.X"'],
    [{ ...ok, env: ["NOT A NAME"] }, 'webshare.json: env.0 "NOT A NAME" must be an environment variable NAME'],
    [{ ...ok, healthPath: "health" }, 'webshare.json: healthPath "health" must start with "/"'],
    [{ version: 1, entry: "app:app" }, "webshare.json: requirements is required (needs requirements, lock, or both)"],
    [{ ...ok, secret: "x" }, 'webshare.json: unknown prop "secret"'],
    [[1, 2], "webshare.json must hold a JSON object"],
  ])("%j -> %s", (input, message) => {
    const result = parseDescriptor(JSON.stringify(input));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join("\n")).toContain(message);
  });

  test("invalid JSON is reported with the parser's reason", () => {
    const result = parseDescriptor("{ version: 1 }");
    expect(!result.ok && result.problems[0]).toMatch(/^webshare\.json is not valid JSON: /);
  });
});

describe("readDescriptor", () => {
  test("the demo app's descriptor is valid", () => {
    expect(readDescriptor(path.join(REPO, "examples/demo-app")).ok).toBe(true);
  });

  test("files the descriptor names must exist", () => {
    const dir = path.join(REPO, "test/fixtures/descriptors/broken");
    const result = readDescriptor(dir);
    expect(!result.ok && result.problems.map((p) => p.replace(`${dir}/webshare.json: `, ""))).toEqual([
      `lock "nope.lock" does not exist in ${dir}`,
      `staticDirs["/static"] "static" does not exist in ${dir}`,
      `entry "missing_module:app" names module missing_module, but neither missing_module.py nor missing_module/__init__.py exists in ${dir}`,
    ]);
  });
});

describe("paths a descriptor names stay inside the app directory", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-descriptor-"));
  const dir = path.join(root, "app");
  fs.mkdirSync(path.join(dir, "static"), { recursive: true });
  fs.writeFileSync(path.join(dir, "app.py"), "app = None\n");
  fs.writeFileSync(path.join(root, "outside.txt"), "flask\n");
  fs.symlinkSync("../outside.txt", path.join(dir, "linked.txt"));
  const write = (d: Record<string, unknown>) => fs.writeFileSync(path.join(dir, "webshare.json"), JSON.stringify({ version: 1, entry: "app:app", ...d }));
  const must = `must be a path inside the app directory ${dir}, relative to it`;

  test.each<[Record<string, unknown>, string]>([
    [{ requirements: "../outside.txt" }, `requirements "../outside.txt" ${must}`],
    [{ lock: path.join(root, "outside.txt") }, `lock ${JSON.stringify(path.join(root, "outside.txt"))} ${must}`],
    [{ lock: "linked.txt" }, `lock "linked.txt" ${must} (it is a symlink leading out of it)`],
    [{ requirements: "app.py", staticDirs: { "/s": "../app" } }, `staticDirs["/s"] "../app" ${must}`],
  ])("%j is refused by readDescriptor and by webshare validate", (d, message) => {
    write(d);
    const result = readDescriptor(dir);
    expect(!result.ok && result.problems).toEqual([`${dir}/webshare.json: ${message}`]);
    const cli = spawnSync("node", [CLI, "validate", dir], { encoding: "utf8" });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(message);
  });

  test("paths inside are fine", () => {
    write({ requirements: "./app.py", staticDirs: { "/s": "static" } });
    expect(readDescriptor(dir).ok).toBe(true);
  });
});

test("the JSON Schema is generated from the zod schema", () => {
  const schema = descriptorJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
  expect(Object.keys(schema.properties).sort()).toEqual(["$schema", "entry", "env", "healthPath", "lock", "python", "releaseCommands", "requirements", "staticDirs", "version"]);
  expect([...schema.required].sort()).toEqual(["entry", "version"]);
  expect(schema.additionalProperties).toBe(false);
  expect(JSON.parse(execFileSync("node", [CLI, "schema"], { encoding: "utf8" }))).toEqual(JSON.parse(JSON.stringify(schema)));
});

test("webshare validate: exit 0 with a summary, exit 1 naming each problem", () => {
  const good = spawnSync("node", [CLI, "validate", path.join(REPO, "examples/demo-app")], { encoding: "utf8" });
  expect([good.status, good.stdout]).toEqual([0, `${path.join(REPO, "examples/demo-app")}/webshare.json is valid (version 1): entry app:app, lock requirements.lock, requirements requirements.txt, Python 3.11\n`]);
  const bad = spawnSync("node", [CLI, "validate", path.join(REPO, "test/fixtures/descriptors/broken")], { encoding: "utf8" });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain('lock "nope.lock" does not exist');
});

test("WsgiApp.fromDescriptor builds the app and its venv from webshare.json", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "h", user: "u", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43), apache: ApacheMode.managed() });
  const app = WsgiApp.fromDescriptor(stack, "demo", host, "examples/demo-app", { url: "https://example.org/shop" });
  expect(app.venv.node.path).toBe("s/demo-venv");
  const config = JSON.parse(Testing.synth(stack));
  const inputs = Object.entries(config.resource.terraform_data as Record<string, { input: any }>).filter(([n]) => n.includes("_deploy_")).map(([, r]) => r.input);
  const venv = inputs.find((i) => i.kind === "venv");
  const web = inputs.find((i) => i.kind === "app");
  expect(venv.pythonVersion).toBe("3.11");
  expect(venv.packages).toEqual({ "webshare-greeting": "1.0.0" });
  expect(web.healthCheck.url).toBe("https://example.org/shop/health");
  expect(web.staticDirs).toEqual({ "/static": "static" });
  expect([web.module, web.callable]).toEqual(["app", "app"]);
  // The entry point answers at its Apache mount (here /) on the URL's host.
  expect(web.healthCheck.releaseUrl).toBe("https://example.org/.webshare/health");
});

test("fromDescriptor: verifyRelease: false (a proxy hides the entry point's path) checks the health URL only", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "h", user: "u", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43), apache: ApacheMode.managed() });
  WsgiApp.fromDescriptor(stack, "demo", host, "examples/demo-app", { url: "https://example.org/shop", verifyRelease: false });
  const config = JSON.parse(Testing.synth(stack));
  const web = Object.values(config.resource.terraform_data as Record<string, { input: any }>).map((r) => r.input).find((i) => i.kind === "app" && i.healthCheck !== undefined);
  expect(web.healthCheck.url).toBe("https://example.org/shop/health");
  expect(web.healthCheck.releaseUrl).toBeUndefined();
});

test("fromDescriptor fails synth naming the app and the descriptor problem", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "h", user: "u", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43), apache: ApacheMode.managed() });
  expect(() => WsgiApp.fromDescriptor(stack, "shop", host, "test/fixtures/descriptors/broken")).toThrow(/^s\/shop: invalid props:\n  - .*lock "nope\.lock" does not exist/);
});
