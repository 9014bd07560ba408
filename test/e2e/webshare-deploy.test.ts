import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { HOST_DIR, httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";
import { uidOf, waitForProcess } from "../support/host-processes";
import { startWebshareDeploy } from "../support/running-command";

/**
 * `webshare deploy`: the same stack, state and provisioners as `cdktf deploy`, with the synth
 * and the engine run by our CLI. Runs against the self-managed Apache target, so it does not
 * share a home with deploy.test.ts. Tests run in order and build on each other.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));

/** SSH logins so far for the target's user, from the local host's sshd log. */
function logins(): number {
  const log = fs.readFileSync(path.join(HOST_DIR, "sshd/sshd.log"), "utf8");
  return log.split("\n").filter((l) => l.includes(`Accepted publickey for ${target.user} `)).length;
}

function deployCounted(args?: string[]): { code: number; output: string; logins: number } {
  const before = logins();
  const result = project.webshareDeploy({}, args);
  return { ...result, logins: logins() - before };
}

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "cli");
}, 120_000);

afterAll(() => project?.remove());

test("first deploy: synth, init and apply run by webshare, and the app serves", async () => {
  const result = deployCounted();
  expect(result.output).toMatch(/webshare deploy: synthesized cli with "node .*dist\/main\.js" \d+\.\ds/);
  expect(result.output).toMatch(/\[cli\/venv\] pip install \(1 requirement\) \d+\.\ds/);
  expect(result.output).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed\./);
  // Every unit ran in the deploy process; its provisioner process only relayed its lines.
  expect(result.output).toMatch(/webshare deploy: cli applied \d+\.\ds \(total \d+\.\ds; 1 SSH connection; 3 units run in this process\)/);
  expect(result.output).toContain(`[cli/app] connect (${target.user}@${target.host}:${target.port}, shared connection)`);
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/\[cli\/venv\] done: \d+ remote commands, \d+ file transfers? over the shared connection/);
  // Both units (venv, then app) ran over one connection: one login on the host.
  expect(result.logins).toBe(1);
  expect((await httpGet(target.url)).body).toContain("greeting 1.0.0");
});

test("no-op: no change, no SSH connection", () => {
  const result = deployCounted();
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
  expect(result.output).not.toContain("ahead of the engine");
  expect(result.output).not.toContain("while the app synthesizes");
  expect(result.logins).toBe(0);
});

test("it shares the state with cdktf deploy: cdktf sees no change either", () => {
  const result = project.deploy();
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/No changes/);
});

test("a code-only change uploads the changed file and serves it", async () => {
  project.write("app.py", project.read("app.py").replace(/Hello/g, "Howdy"));
  const result = deployCounted();
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/\[cli\/app\] upload app \(1 file uploaded, 0 removed/);
  expect(result.output).not.toMatch(/pip install/);
  // The host was connected to while the app synthesized (app.py differs from the last synth), once.
  expect(result.output).toContain(`webshare deploy: connecting to ${target.user}@${target.host}:${target.port} while the app synthesizes (files there differ from the last synth)`);
  expect(result.output).not.toContain("ahead of the engine");
  expect(result.logins).toBe(1);
  expect((await httpGet(target.url)).body).toContain("Howdy");
});

test("an app whose import fails: exit 1 with the unit's message as a provisioner prints it, and the old code keeps serving", async () => {
  const good = project.read("app.py");
  project.write("app.py", `import webshare_no_such_module\n${good}`);
  const result = deployCounted();
  expect(result.code).toBe(1);
  expect(result.output).toMatch(/webshare: cli\/app on \S+: the new release [0-9a-f]{16} cannot be served: importing app:app with the new venv failed: ModuleNotFoundError: No module named 'webshare_no_such_module'; it was not switched in, the previous release keeps serving/);
  expect(result.output).toMatch(/webshare: .*tofu apply failed \(exit 1\)/);
  expect((await httpGet(target.url)).body).toContain("Howdy");
  project.write("app.py", good);
  expect(deployCounted().code).toBe(0); // replaces the tainted unit
});

test("without --auto-approve: the plan and a question; only 'yes' applies, and no change asks nothing", async () => {
  project.write("app.py", project.read("app.py").replace(/Howdy/g, "Hiya"));
  const declined = project.webshareDeploy({}, ["cli"], "no\n");
  expect(declined.code).toBe(1);
  expect(declined.output).toMatch(/Plan: 1 to add, 0 to change, 1 to destroy\./);
  expect(declined.output).toContain("Apply these changes? Only 'yes' applies them: ");
  expect(declined.output).toContain("webshare: deploy cancelled: the answer was not 'yes', so nothing was applied");
  expect((await httpGet(target.url)).body).toContain("Howdy");

  const accepted = project.webshareDeploy({}, ["cli"], "yes\n");
  expect(accepted.code).toBe(0);
  expect(accepted.output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 1 destroyed\./);
  expect((await httpGet(target.url)).body).toContain("Hiya");

  const unchanged = project.webshareDeploy({}, ["cli"]);
  expect(unchanged.code).toBe(0);
  expect(unchanged.output).toContain("webshare deploy: cli has no changes: nothing to apply");
  expect(unchanged.output).not.toContain("Apply these changes?");
});

test("a failed deploy exits 1 with the unit's error and the engine's, and the old version keeps serving", async () => {
  project.write("requirements.lock", "webshare-greeting==2.0.0\nwebshare-missing==1.0\n");
  const result = deployCounted();
  expect(result.code).toBe(1);
  expect(result.output).toMatch(/No matching distribution found for webshare-missing==1\.0/);
  expect(result.output).toMatch(/webshare: .*tofu apply failed \(exit 1\)/);
  expect(result.output).toContain("What failed is tainted and is retried by the next deploy");
  expect((await httpGet(target.url)).body).toContain("greeting 1.0.0");
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
  const healed = deployCounted();
  expect(healed.code).toBe(0);
  expect((await httpGet(target.url)).body).toContain("greeting 2.0.0");
});

test("without the command agent (a host whose python3 is not on the PATH: exec channels and SFTP), code and requirements deploy alike", async () => {
  project.write("app.py", project.read("app.py").replace(/Hiya/g, "Hey"));
  project.write("requirements.lock", "webshare-greeting==2.0.0\nwebshare-extra==1.0.0\n");
  const result = project.webshareDeploy({ WEBSHARE_SSH_AGENT: "off" });
  expect(result.code).toBe(0);
  // The staged steps keep their own lines and the host's seconds on this path too.
  expect(result.output).toMatch(/\[cli\/venv\] record pip freeze \d+\.\ds/);
  expect(result.output).toMatch(/\[cli\/app\] upload app \(1 file uploaded, 0 removed, release [0-9a-f]{16}\) \d+\.\ds/);
  expect(result.output).toMatch(/\[cli\/app\] import check \(app:app imports\) \d+\.\ds/);
  const body = (await httpGet(target.url)).body;
  expect(body).toContain("Hey");
  expect(body).toContain("greeting 2.0.0");
  expect(fs.readFileSync(path.join(target.home, "private/freeze.txt"), "utf8")).toContain("webshare-extra==1.0.0");
}, 120_000);

test("Ctrl+C during pip install: it waits for the engine, the lock is released, the old venv serves", async () => {
  const slowWheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-slow-"));
  makeWheelhouse(slowWheelhouse, 8192); // padded wheels: pip runs for seconds
  const uid = uidOf(target.home);
  project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.0.0\n");
  const deploy = startWebshareDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse });
  await waitForProcess((p) => p.uid === uid && /-m pip .*install/.test(p.cmdline), "pip install on the host");
  deploy.interrupt("SIGINT"); // a terminal sends it to every process of the deploy
  const result = await deploy.done;
  expect(result.code).toBe(1);
  expect(result.output).toContain("webshare: deploy interrupted (SIGINT); the engine stopped");
  // By the time webshare exits, the engine has stopped its provisioner, which released the lock.
  expect(fs.existsSync(path.join(target.home, ".webshare/lock"))).toBe(false);
  expect((await httpGet(target.url)).body).toContain("greeting 2.0.0");
  fs.rmSync(slowWheelhouse, { recursive: true, force: true });
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
}, 120_000);

test("a stack the app does not have, or no cdktf.json: exit 1 with what to do", () => {
  const wrong = project.webshareDeploy({}, ["--auto-approve", "nope"]);
  expect(wrong.code).toBe(1);
  expect(wrong.output).toContain('webshare: the app has no stack "nope" (it has: cli)');
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-no-project-"));
  try {
    fs.renameSync(path.join(project.dir, "cdktf.json"), path.join(elsewhere, "cdktf.json"));
    const missing = project.webshareDeploy();
    expect(missing.code).toBe(1);
    expect(missing.output).toContain(`webshare: cannot use ${path.join(project.dir, "cdktf.json")}: the file does not exist: run webshare deploy in the cdktf project directory`);
  } finally {
    fs.renameSync(path.join(elsewhere, "cdktf.json"), path.join(project.dir, "cdktf.json"));
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});
