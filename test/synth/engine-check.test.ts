import { App, TerraformStack } from "cdktf";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import { engineVersionProblems } from "../../constructs/terraform-data";

/**
 * terraform_data needs an engine >= 1.4. The check runs the engine once per stack at synth
 * (cdktf's DataResource ran it once per resource: 400 processes for a 100-app stack).
 */
const FINGERPRINT = "SHA256:" + "A".repeat(43);

function fakeEngine(dir: string, versionLine: string): { binary: string; calls: () => number } {
  const binary = path.join(dir, "engine");
  const log = path.join(dir, "calls");
  fs.writeFileSync(binary, `#!/bin/sh\necho "$@" >> '${log}'\necho '${versionLine}'\n`, { mode: 0o755 });
  return { binary, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "").length : 0) };
}

function synthAppsWith(binary: string, apps: number): void {
  const previous = process.env.TERRAFORM_BINARY_NAME;
  process.env.TERRAFORM_BINARY_NAME = binary;
  try {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "webshare-engine-")) });
    const stack = new TerraformStack(app, "site");
    const host = new WebshareHost(stack, "host", { host: "web.example.com", user: "wwwshare", privateKeyPath: "~/.ssh/id_ed25519", hostKey: FINGERPRINT, apache: ApacheMode.managed() });
    for (let i = 0; i < apps; i++) {
      const venv = new Venv(stack, `venv${i}`, { host, requirements: "test/fixtures/apps/api/requirements.txt", path: `apps/a${i}/venv` });
      new WsgiApp(stack, `app${i}`, { host, venv, source: "test/fixtures/apps/api", entry: "service:application", mount: `/a${i}`, appDir: `apps/a${i}/public` });
    }
    app.synth();
  } finally {
    if (previous === undefined) delete process.env.TERRAFORM_BINARY_NAME;
    else process.env.TERRAFORM_BINARY_NAME = previous;
  }
}

describe("engine version check at synth", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-engine-bin-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("runs the engine once per stack, not once per resource", () => {
    const engine = fakeEngine(dir, "OpenTofu v1.6.2");
    synthAppsWith(engine.binary, 5); // 20 terraform_data resources
    expect(engine.calls()).toBe(1);
  });

  test("an engine older than 1.4 fails the synth, naming the version and the fix", () => {
    const engine = fakeEngine(dir, "Terraform v1.3.9");
    expect(() => synthAppsWith(engine.binary, 1)).toThrow(/engine 1\.3\.9 is too old: terraform_data needs Terraform or OpenTofu >= 1\.4 \(set TERRAFORM_BINARY_NAME/);
  });

  test("a missing engine fails the synth and says which binary it tried", () => {
    expect(() => synthAppsWith(path.join(dir, "no-such-tofu"), 1)).toThrow(/Could not determine the version of .*no-such-tofu/);
  });

  test("version text parsing", () => {
    expect(engineVersionProblems("tofu", "OpenTofu v1.6.2\non linux_amd64")).toEqual([]);
    expect(engineVersionProblems("terraform", "Terraform v2.0.0")).toEqual([]);
    expect(engineVersionProblems("terraform", "Terraform v1.4.0")).toEqual([]);
    expect(engineVersionProblems("terraform", "Terraform v1.3.10")[0]).toMatch(/1\.3\.10 is too old/);
    expect(engineVersionProblems("x", "no version here")[0]).toMatch(/Could not determine the version of x/);
  });
});
