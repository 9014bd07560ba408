import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Venv, WsgiApp } from "../../constructs";
import type { WebshareHostProps } from "../../constructs/webshare-host";
import { unitsOfStack } from "../../lib/stacks/read";
import { parseUnit } from "../../lib/transport";
import { AppUnitSpec, removalSpec, unitSpec, UnitSpec } from "../../lib/spec";
import { tofu, tofuStatus, unreachableHostStack, withPathFirst } from "../support/engine-stack";
import { provisionStubDir } from "../support/provision-stub";

/**
 * How a unit's spec reaches its provisioner, with real OpenTofu from node_modules and the
 * provisioner replaced by a stub that receives the unit exactly as `webshare provision` does
 * (test/support/provision-stub.ts) and saves it:
 *
 * - a plan made on another machine (another key path, passphrase variable, agent setting,
 *   timeout) shows no changes; another host does;
 * - an app of 20,000 files deploys (its spec is far beyond one environment string's 128 KiB);
 * - a stack synthesized again between a saved plan and its apply is refused, not applied.
 */
describe("spec transport to the provisioner (real engine)", () => {
  let root: string;
  let stub: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-transport-"));
    stub = provisionStubDir(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** One venv and one app in project `dir` (same dir = same stack dir and state); returns the stack dir. */
  function synth(dir: string, options: { host?: Partial<WebshareHostProps>; files?: number } = {}): string {
    const src = path.join(dir, "app");
    if (!fs.existsSync(src)) {
      fs.mkdirSync(src, { recursive: true });
      fs.writeFileSync(path.join(src, "app.py"), "def app(environ, start_response): pass\n");
      // Many files in 100 directories, names like a real tree's (pkg017/module_00412.py).
      for (let i = 0; i < (options.files ?? 0); i++) {
        const sub = path.join(src, `pkg${String(i % 100).padStart(3, "0")}`);
        if (i < 100) fs.mkdirSync(sub);
        fs.writeFileSync(path.join(sub, `module_${String(i).padStart(5, "0")}.py`), `N = ${i}\n`);
      }
      fs.writeFileSync(path.join(dir, "requirements.txt"), "webshare-greeting==1.0.0\n");
    }
    const { app, stack, host } = unreachableHostStack(dir, undefined, options.host);
    const venv = new Venv(stack, "venv", { host, requirements: path.join(dir, "requirements.txt") });
    new WsgiApp(stack, "app", { host, venv, source: src, entry: "app:app" });
    app.synth();
    return path.join(app.outdir, "stacks/demo");
  }

  /** What the stub received, by `<action> <unit>`, parsed with the provisioner's own parseUnit. */
  function received(dump: string): Map<string, unknown> {
    return new Map(
      // The host inventory's runs (inventory-*) are not units.
      fs.readdirSync(dump).filter((f) => !f.startsWith("inventory-")).map((f) => {
        const action = f.split("-")[0]!;
        const spec = parseUnit(action === "create" ? unitSpec : removalSpec, fs.readFileSync(path.join(dump, f), "utf8"));
        return [`${action} ${spec.unit}`, spec] as const;
      }),
    );
  }

  const synthesized = (stackDir: string) => new Map<string, UnitSpec>(unitsOfStack("demo", JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"))).map((u) => [u.spec.unit, u.spec]));
  const newDump = () => fs.mkdtempSync(path.join(root, "dump-"));

  test("another machine's key path, passphrase variable, agent and timeout plan as no changes; another host does not", () => {
    const dir = fs.mkdtempSync(path.join(root, "machines-"));
    const laptop = synth(dir);
    tofu(laptop, ["init", "-input=false"]);
    const applied = newDump();
    tofu(laptop, ["apply", "-input=false", "-auto-approve"], withPathFirst(stub, { WEBSHARE_DUMP: applied }));
    expect([...received(applied).keys()].sort()).toEqual(["create demo/app", "create demo/venv"]);

    const ci = { privateKeyPath: "/runner/secrets/deploy_key", passphraseEnv: "CI_KEY_PASSPHRASE", useAgent: true, connectTimeoutSeconds: 45 };
    const runner = synth(dir, { host: ci });
    expect(runner).toBe(laptop);
    const plan = tofuStatus(runner, ["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    expect(plan.stderr).toBe("");
    expect(plan.stdout).toContain("No changes.");
    expect(plan.status).toBe(0);
    // Commands that read units from the stack still see the whole connection: this machine's.
    for (const spec of synthesized(runner).values()) expect(spec.host.connection).toEqual({ host: "unreachable.invalid", port: 22, user: "wwwshare", hostKey: "SHA256:" + "A".repeat(43), ...ci });

    const moved = synth(dir, { host: { ...ci, host: "other.invalid" } });
    const elsewhere = tofuStatus(moved, ["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    // Four units (deploy and remove of the venv and the app) and the host inventory's prune and cleanup.
    expect(elsewhere.stdout).toContain("Plan: 0 to add, 6 to change, 0 to destroy.");
    expect(elsewhere.status).toBe(2);

    // The remove resources' destroy provisioners get the connection settings of the machine that destroys.
    synth(dir, { host: ci });
    const destroyed = newDump();
    tofu(runner, ["destroy", "-input=false", "-auto-approve"], withPathFirst(stub, { WEBSHARE_DUMP: destroyed }));
    const removals = received(destroyed);
    expect([...removals.keys()].sort()).toEqual(["destroy demo/app", "destroy demo/venv"]);
    for (const spec of removals.values()) expect((spec as UnitSpec).host.connection).toMatchObject(ci);
  });

  test("an app of 20,000 files reaches the provisioner intact (one environment string holds 128 KiB)", () => {
    const dir = fs.mkdtempSync(path.join(root, "big-"));
    let t = Date.now();
    const stackDir = synth(dir, { files: 20_000 });
    const synthMs = Date.now() - t;
    const stackBytes = fs.statSync(path.join(stackDir, "cdk.tf.json")).size;
    tofu(stackDir, ["init", "-input=false"]);
    t = Date.now();
    tofu(stackDir, ["plan", "-input=false", "-out=plan"]);
    const planMs = Date.now() - t;
    const dump = newDump();
    t = Date.now();
    tofu(stackDir, ["apply", "-input=false", "plan"], withPathFirst(stub, { WEBSHARE_DUMP: dump }));
    const applyMs = Date.now() - t;
    const got = received(dump);
    const app = got.get("create demo/app") as AppUnitSpec;
    expect(Object.keys(app.files)).toHaveLength(20_001);
    expect(got.get("create demo/app")).toEqual(synthesized(stackDir).get("demo/app"));
    expect(got.get("create demo/venv")).toEqual(synthesized(stackDir).get("demo/venv"));
    // eslint-disable-next-line no-console
    console.log(`20,001 files: synth ${synthMs} ms (includes writing, hashing), cdk.tf.json ${(stackBytes / 1024 / 1024).toFixed(1)} MiB, plan ${planMs} ms, apply ${applyMs} ms`);
  }, 120_000);

  test("a stack synthesized again between a saved plan and its apply is refused: plan again", () => {
    const dir = fs.mkdtempSync(path.join(root, "stale-"));
    const stackDir = synth(dir);
    tofu(stackDir, ["init", "-input=false"]);
    tofu(stackDir, ["plan", "-input=false", "-out=plan"]);
    // Someone edits the app and synthesizes into the same stack directory.
    fs.writeFileSync(path.join(dir, "app", "app.py"), "def app(environ, start_response): return [b'unplanned']\n");
    synth(dir);
    const dump = newDump();
    const apply = tofuStatus(stackDir, ["apply", "-input=false", "-no-color", "plan"], withPathFirst(stub, { WEBSHARE_DUMP: dump }));
    expect(apply.status).toBe(1);
    const said = apply.stderr.replace(/\s+/g, " "); // the engine wraps the provisioner's output
    expect(said).toContain("demo/app: the synthesized stack");
    expect(said).toContain("is not the one this plan was made from (its spec for this unit differs from the planned one), so nothing was deployed");
    expect(said).toContain("What to do: plan again");
    // The venv did not change, so it deploys as planned; the app never reached a deploy.
    expect([...received(dump).keys()]).toEqual(["create demo/venv"]);
  });
});
