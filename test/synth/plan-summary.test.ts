import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Venv, WsgiApp } from "../../constructs";
import { summarizePlan } from "../../lib/summary/model";
import { renderPlanSummary } from "../../lib/summary/render";
import { tofu as runTofu, unreachableHostStack, withPathFirst } from "../support/engine-stack";

/**
 * plan-summary on REAL plan JSON: a stack synthesized from the constructs, planned by the
 * OpenTofu binary from node_modules, `tofu show -json`. The host is unreachable on purpose:
 * planning never connects.
 *
 * A change plan needs prior state, and applying runs each deploy's local-exec provisioner,
 * `node "$WEBSHARE_CLI" provision create`, which would SSH to the host. The applies here run
 * with a directory first on PATH whose `node` is a script that exits 0, so the provisioner
 * succeeds without deploying anything; the state Terraform records is the real one, and the
 * next plan is a real replacement plan (actions ["create","delete"]), not a hand-made one.
 */
const REPO = path.resolve(__dirname, "../../..");

describe("plan-summary on real OpenTofu plans", () => {
  let dir: string;
  let src: string;
  let stackDir: string;
  let shim: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-plan-summary-"));
    src = path.join(dir, "blog");
    fs.cpSync(path.join(REPO, "test/fixtures/apps/blog"), src, { recursive: true });
    stackDir = path.join(dir, "out/stacks/demo");
    shim = path.join(dir, "shim");
    fs.mkdirSync(shim);
    fs.writeFileSync(path.join(shim, "node"), "#!/bin/sh\n# stands in for the provisioner's `node webshare provision create`\nexit 0\n", { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function synth(options: { processes?: number; withApp?: boolean } = {}): void {
    const { app, stack, host } = unreachableHostStack(dir);
    const venv = new Venv(stack, "venv", { host, requirements: path.join(src, "requirements.txt"), lock: path.join(src, "requirements.lock") });
    if (options.withApp !== false) {
      new WsgiApp(stack, "app", { host, venv, source: src, entry: "app:app", staticDirs: { "/static": "static" }, daemon: { processes: options.processes ?? 2 } });
    }
    app.synth();
  }

  const tofu = (args: string[], pathPrefix?: string) => runTofu(stackDir, args, pathPrefix ? withPathFirst(pathPrefix) : {});

  /** plan -out, then show -json: exactly what a CI job feeds to `webshare plan-summary`. */
  function planJson(name: string): any {
    tofu(["plan", "-input=false", "-no-color", `-out=${name}`]);
    return JSON.parse(tofu(["show", "-json", name]));
  }

  const apply = (name: string) => tofu(["apply", "-input=false", "-no-color", "-auto-approve", name], shim);

  test("create, change, no change and removal, in order", () => {
    // 1. A new stack: every unit is created; packages and files are listed as added.
    synth();
    tofu(["init", "-input=false", "-no-color"]);
    const create = planJson("create.tfplan");
    const created = summarizePlan(create);
    expect(created.units.map((u) => [u.unit, u.action])).toEqual([
      ["demo/venv", "create"],
      ["demo/app", "create"],
    ]);
    const createdMd = renderPlanSummary(created);
    expect(createdMd).toContain("### webshare plan: 2 units change (2 to deploy)");
    expect(createdMd).toContain("| `webshare-greeting` | added |  | `1.0.0` |");
    expect(createdMd).toContain("Files: 2 added\n\n- added `app.py`\n- added `static/hello.txt`");
    apply("create.tfplan");

    // 2. Upgrade the lock, add a package, edit a file, add one, raise the processes.
    fs.writeFileSync(path.join(src, "requirements.lock"), "webshare-greeting==2.1.0\nmarkupsafe==2.1.5\n");
    fs.appendFileSync(path.join(src, "app.py"), "# v2\n");
    fs.writeFileSync(path.join(src, "static/new.txt"), "new\n");
    synth({ processes: 4 });
    const changePlan = planJson("change.tfplan");
    const deploys = changePlan.resource_changes.filter((rc: any) => rc.name.includes("_deploy_"));
    expect(deploys.map((rc: any) => rc.change.actions)).toEqual([
      ["create", "delete"],
      ["create", "delete"],
    ]);
    expect(renderPlanSummary(summarizePlan(changePlan))).toBe(
      [
        "### webshare plan: 2 units change (2 to deploy)",
        "",
        "#### `demo/venv` (venv): changed (redeploys)",
        "",
        "| Package | Change | From | To |",
        "|---|---|---|---|",
        "| `webshare-greeting` | upgraded (**major**) | `1.0.0` | `2.1.0` |",
        "| `markupsafe` | added |  | `2.1.5` |",
        "",
        "2 package changes: 1 upgraded (1 major), 1 added.",
        "",
        "#### `demo/app` (app): changed (redeploys)",
        "",
        "Files: 1 added, 1 changed",
        "",
        "- added `static/new.txt`",
        "- changed `app.py`",
        "",
        "Apache config changes:",
        "",
        "- `daemon.processes`: `2` → `4`",
        "",
      ].join("\n"),
    );
    apply("change.tfplan");

    // 3. Nothing changed: one line.
    const same = planJson("same.tfplan");
    expect(renderPlanSummary(summarizePlan(same))).toBe("webshare: no changes to deployed units.\n");

    // 4. The app is removed from the stack: it is listed as removed, once.
    synth({ processes: 4, withApp: false });
    const removed = summarizePlan(planJson("remove.tfplan"));
    expect(removed.units.map((u) => [u.unit, u.action])).toEqual([
      ["demo/venv", "replace"], // its list of apps to touch after a switch changed
      ["demo/app", "delete"],
    ]);
    expect(renderPlanSummary(removed)).toContain("#### `demo/app` (app): removed (the app, its releases and its Apache config are deleted from the host)\n\nIt had 3 files.");
  });
});
