import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { synthesize } from "../../lib/cdktf/synth";
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

describe("synthesize: the app command through the shell, as cdktf runs it", () => {
  test("it gets CDKTF_OUTDIR (a temp dir unless one is given) and runs in the project dir", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-synth-test-"));
    try {
      const result = await synthesize('mkdir -p "$CDKTF_OUTDIR" && pwd > "$CDKTF_OUTDIR/where"', cwd, process.env);
      expect(fs.readFileSync(path.join(result.outdir, "where"), "utf8").trim()).toBe(fs.realpathSync(cwd));
      result.cleanup();
      expect(fs.existsSync(result.outdir)).toBe(false);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("a failing app command: its exit and the tail of its output", async () => {
    const failure = synthesize("echo 'Error: boom in main.ts' >&2; exit 3", os.tmpdir(), process.env);
    await expect(failure).rejects.toThrow('the cdktf app command "echo \'Error: boom in main.ts\' >&2; exit 3" failed (exit 3)');
    await expect(failure).rejects.toMatchObject({ detail: "Error: boom in main.ts" });
  });
});
