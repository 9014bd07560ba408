import * as path from "node:path";
import { parseCdktfJson, pickStack } from "../../lib/cdktf/project";
import { engineBinary } from "../../lib/cdktf/engine";

describe("cdktf.json", () => {
  test("app command and output dir (default cdktf.out, relative to the project)", () => {
    expect(parseCdktfJson('{"app": "node dist/main.js"}', "/p")).toEqual({ app: "node dist/main.js", outdir: path.resolve("/p/cdktf.out") });
    expect(parseCdktfJson('{"app": "npx ts-node main.ts", "output": "out"}', "/p")).toEqual({ app: "npx ts-node main.ts", outdir: path.resolve("/p/out") });
  });

  test("bad files name the file and what is wrong", () => {
    expect(() => parseCdktfJson("{", "/p")).toThrow(/cannot use \/p\/cdktf\.json: not JSON/);
    expect(() => parseCdktfJson('{"language": "typescript"}', "/p")).toThrow('cannot use /p/cdktf.json: it has no "app" command');
    expect(() => parseCdktfJson('{"app": "x", "output": 3}', "/p")).toThrow('"output" must be a string');
  });
});

describe("which stack", () => {
  const manifest = (...names: string[]) => JSON.stringify({ stacks: Object.fromEntries(names.map((n) => [n, { workingDirectory: `stacks/${n}` }])) });

  test("the only stack, or the named one", () => {
    expect(pickStack(manifest("demo"), "/o", undefined)).toEqual({ name: "demo", workingDirectory: "/o/stacks/demo" });
    expect(pickStack(manifest("a", "b"), "/o", "b")).toEqual({ name: "b", workingDirectory: "/o/stacks/b" });
  });

  test("several stacks need a name; an unknown name lists the stacks", () => {
    expect(() => pickStack(manifest("b", "a"), "/o", undefined)).toThrow("the app has 2 stacks (a, b): say which one to deploy");
    expect(() => pickStack(manifest("a"), "/o", "c")).toThrow('the app has no stack "c" (it has: a)');
    expect(() => pickStack(manifest(), "/o", undefined)).toThrow("the app synthesized no stacks");
  });
});

test("engine: --engine, else TERRAFORM_BINARY_NAME, else terraform (what cdktf uses)", () => {
  expect(engineBinary({}, "tofu")).toBe("tofu");
  expect(engineBinary({ TERRAFORM_BINARY_NAME: "/x/tofu" })).toBe("/x/tofu");
  expect(engineBinary({ TERRAFORM_BINARY_NAME: "" })).toBe("terraform");
});
