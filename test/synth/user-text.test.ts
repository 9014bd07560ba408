import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { Venv, WsgiApp } from "../../constructs";
import { unitsOfStack } from "../../lib/stacks/read";
import { parseUnit } from "../../lib/transport";
import { apacheConfigOf } from "../../lib/render/unit-files";
import { sha256Hex } from "../../lib/hash";
import { parseRequirements } from "../../lib/requirements";
import { AppUnitSpec, joinConnection, unitSpec, UnitSpec, VenvUnitSpec } from "../../lib/spec";
import { trickyText } from "../support/tricky-text";
import { tofu, unreachableHostStack, withPathFirst } from "../support/engine-stack";
import { provisionStubDir } from "../support/provision-stub";

/**
 * User text is never Terraform code: file names, environment values, a requirement line and
 * the display name reach the provisioner exactly as written. Real OpenTofu from node_modules
 * runs `init` + `apply` of the synthesized stack; a `node` first on PATH stands in for the
 * provisioner's `node "$WEBSHARE_CLI" provision create`: it receives the unit as `provision`
 * does (read from the stack, checked against the planned digest) and saves it, and the test
 * parses it with the provisioner's own `parseUnit`.
 */
/** A file name that, evaluated, reads `db.yml` from the engine's working directory (the stack dir). */
const PLANTED = '${file("db.yml")}';
const DB_CONTENT = "password: planted-secret-4711";

interface Inputs {
  readonly files: readonly string[];
  readonly environment: Record<string, string>;
  readonly requirement: string;
  readonly displayName: string;
}

describe("user text in synthesized JSON stays text", () => {
  let root: string;
  let shim: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-user-text-"));
    // Saves the spec a provisioner receives, named by the instance id (one file per unit).
    shim = provisionStubDir(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A project in a fresh dir: one venv and one app built from `inputs`; returns the stack dir. */
  function synth(inputs: Inputs, lifecycleResource?: "null_resource"): string {
    const dir = fs.mkdtempSync(path.join(root, "run-"));
    const src = path.join(dir, "app");
    fs.mkdirSync(src);
    for (const name of inputs.files) fs.writeFileSync(path.join(src, name), name);
    fs.writeFileSync(path.join(dir, "requirements.txt"), `${inputs.requirement}\n`);
    const { app, stack, host } = unreachableHostStack(dir, lifecycleResource);
    const venv = new Venv(stack, "venv", { host, requirements: path.join(dir, "requirements.txt") });
    new WsgiApp(stack, "app", { host, venv, source: src, entry: "app:app", environment: inputs.environment, daemon: { displayName: inputs.displayName } });
    app.synth();
    const stackDir = path.join(app.outdir, "stacks/demo");
    fs.writeFileSync(path.join(stackDir, "db.yml"), DB_CONTENT);
    return stackDir;
  }

  /** The units as read back from cdk.tf.json, by unit path. */
  function synthesized(stackDir: string): Map<string, UnitSpec> {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    return new Map(unitsOfStack("demo", json).map((u) => [u.spec.unit, u.spec]));
  }

  /** Checks one spec (however it was obtained) against the inputs it was built from. */
  function expectInputs(units: Map<string, UnitSpec>, inputs: Inputs): void {
    const app = units.get("demo/app") as AppUnitSpec;
    const venv = units.get("demo/venv") as VenvUnitSpec;
    expect(Object.keys(app.files).sort()).toEqual([...inputs.files].sort());
    expect(app.environment).toEqual(inputs.environment);
    expect(app.daemon.displayName).toBe(inputs.displayName);
    expect(venv.requirements).toEqual([inputs.requirement]);
    // The provisioner renders the Apache config from the spec it got: the same text the synth hashed.
    expect(apacheConfigOf(app)).toContain(` display-name=${inputs.displayName}`);
    expect(sha256Hex(apacheConfigOf(app))).toBe(app.apacheConfigSha256);
  }

  const fixed: Inputs = {
    files: [PLANTED, "app.py"],
    environment: { TITLE: "${var.x} %{GROUP}" },
    requirement: "webshare-greeting @ https://example.invalid/${x}/%{y}.whl",
    displayName: "%{GROUP}",
  };

  /** The plan holds no per-machine connection settings: these are the stack's (see unreachableHostStack). */
  const MACHINE = { privateKeyPath: "~/.ssh/id_ed25519", useAgent: false, connectTimeoutSeconds: 10 };

  test("a file named ${file(...)} does not pull another file into the plan; %{GROUP} plans", () => {
    const stackDir = synth(fixed);
    tofu(stackDir, ["init", "-input=false"]);
    tofu(stackDir, ["plan", "-input=false", "-out=plan"]);
    const shown = tofu(stackDir, ["show", "-json", "plan"]);
    expect(shown).not.toContain("planted-secret");
    const plan = JSON.parse(shown);
    const inputs = new Map<string, UnitSpec>(
      plan.resource_changes.filter((rc: any) => rc.name.includes("_deploy_")).map((rc: any) => [rc.change.after.input.unit, unitSpec.parse(joinConnection(rc.change.after.input, MACHINE))]),
    );
    expectInputs(inputs, fixed);
    expectInputs(synthesized(stackDir), fixed);
  });

  test("the null_resource variant carries the same text, escaped in keys and values", () => {
    const stackDir = synth(fixed, "null_resource");
    const text = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
    expect(text).toContain(JSON.stringify('file:$${file("db.yml")}'));
    expectInputs(synthesized(stackDir), fixed);
  });

  /** Text in NFC: the engine makes every string NFC, so other text is refused at synth (tested below). */
  const text = (options?: { minLength: number }) => trickyText(options).map((s) => s.normalize("NFC"));
  /** Names a file system takes: no `/` or NUL, not `.`/`..`, short enough; not an excluded name. */
  const fileName = text({ minLength: 1 })
    .map((s) => s.replace(/[/\0]/g, "_"))
    .filter((s) => s !== "" && s !== "." && s !== ".." && Buffer.byteLength(s) <= 200 && !/^(\.|venv$|node_modules$|__pycache__$)|\.pyc$/.test(s));
  const requirement = text()
    .map((s) => `webshare-greeting @ https://example.invalid/${s.replace(/[\s#\\]/g, "")}`)
    .filter((line) => parseRequirements(line).errors.length === 0);
  const inputs: fc.Arbitrary<Inputs> = fc.record({
    files: fc.uniqueArray(fileName, { minLength: 1, maxLength: 25 }),
    environment: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), text().map((s) => s.replace(/\0/g, "")), { maxKeys: 12 }),
    requirement,
    displayName: fc.array(fc.constantFrom("%{GROUP}", "%%{", "${", "$${", "%", "{", "}", "a", "-", "."), { minLength: 1, maxLength: 8 }).map((p) => p.join("").replace(/\$/g, "%").slice(0, 64)),
  });

  test("text the engine would change (not NFC) is refused at synth, naming it", () => {
    const decomposed = "Cafe\u0301.txt";
    expect(() => synth({ ...fixed, files: [decomposed] })).toThrow('demo/app: invalid props:\n  - "Cafe\\u0301.txt" is not in Unicode NFC (Terraform and OpenTofu store it as "Caf\\u00e9.txt")');
  });

  test("random names and values reach the provisioner byte for byte (real apply)", () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const stackDir = synth(input);
        const dump = fs.mkdtempSync(path.join(root, "dump-"));
        tofu(stackDir, ["init", "-input=false"]);
        tofu(stackDir, ["apply", "-input=false", "-auto-approve"], withPathFirst(shim, { WEBSHARE_DUMP: dump }));
        const dumped = fs.readdirSync(dump).map((f) => fs.readFileSync(path.join(dump, f), "utf8"));
        // The host inventory's prune runs too; it carries unit names and paths, not this text.
        const received = new Map(
          dumped
            .filter((json) => JSON.parse(json).kind !== "inventory")
            .map((json) => {
              const spec = parseUnit(unitSpec, json);
              return [spec.unit, spec] as const;
            }),
        );
        expect(dumped.map((json) => JSON.parse(json).kind).sort()).toEqual(["app", "inventory", "venv"]);
        expect([...received.keys()].sort()).toEqual(["demo/app", "demo/venv"]);
        expect(received).toEqual(synthesized(stackDir));
        expectInputs(received, input);
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });
});
