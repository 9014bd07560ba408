import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";
import { startDeploy } from "../support/running-command";
import { descendantsOf, processes, uidOf, waitForProcess } from "../support/host-processes";
import { webshare } from "../support/webshare-cli";

/**
 * Faults in the middle of a deploy, caused from outside as they happen in real life: the
 * SSH connection dropped by the host while pip runs, Ctrl+C, the deploying process killed,
 * a second deploy started while one runs, and a new venv that breaks the app. After each,
 * the site still serves the old version, and the next normal deploy succeeds (a lock whose
 * holder was killed is the one case that needs `webshare host-lock --force`, by design).
 */
let target: Target;
let project: CdktfProject;
let uid: number;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
// Padded wheels make pip run for seconds: long enough to break it in the middle.
const slowWheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-slow-"));
const home = (p: string) => path.join(target.home, p);
const lockDir = () => home(".webshare/lock");
const unitLocks = () => home(".webshare/locks");
const me = `${os.userInfo().username}@${os.hostname()}`;
const greeting = async () => /greeting (\S+)/.exec((await httpGet(target.url)).body)?.[1];
const pipOfUser = (p: { uid: number; cmdline: string }) => p.uid === uid && /-m pip .*install/.test(p.cmdline);

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  uid = uidOf(target.home);
  makeWheelhouse(wheelhouse);
  makeWheelhouse(slowWheelhouse, 8192);
  project = new CdktfProject(target, wheelhouse, "faults");
  project.env.WEBSHARE_HEALTH_TIMEOUT = "8";
  const first = project.deploy();
  if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
}, 300_000);

afterAll(() => project?.remove());

test("a new venv that breaks the app is switched back to the previous venv", async () => {
  const venvBefore = fs.readlinkSync(home("private/venv"));
  project.write("requirements.lock", "webshare-extra==1.1.0\n"); // the app imports greeting
  const result = project.deploy();
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`faults/venv on ${target.user}@${target.host}:${target.port}: the health check at ${target.url}.webshare/health failed after the switch: HTTP 500`);
  expect(result.output).toContain(`switched back to the previous venv ${path.basename(venvBefore)}`);
  expect(result.output).toContain("ModuleNotFoundError: No module named 'greeting'");
  expect(fs.readlinkSync(home("private/venv"))).toBe(venvBefore);
  expect(await greeting()).toBe("1.0.0");
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe("webshare-greeting==1.0.0\n");
});

test("the SSH connection dropped by the host during pip install: old venv serves, next deploy succeeds", async () => {
  project.write("requirements.lock", "webshare-greeting==2.0.0\nwebshare-extra==1.1.0\n");
  const deploy = startDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse });
  await waitForProcess(pipOfUser, "pip install on the host");
  // What a hoster's admin (or a network drop) does: end the user's SSH session.
  const sessions = processes((p) => p.uid === uid && p.comm === "sshd");
  expect(sessions.length).toBeGreaterThan(0);
  for (const s of sessions) process.kill(s.pid, "SIGKILL");
  const result = await deploy.done;
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`faults/venv on ${target.user}@${target.host}:${target.port}: the SSH connection dropped during "pip install"`);
  expect(result.output).toContain("the live site is unchanged unless the switch that ends a build had already run on the host");
  expect(await greeting()).toBe("1.0.0");
  expect(fs.existsSync(lockDir())).toBe(false); // released over a new connection
  expect(fs.existsSync(unitLocks())).toBe(false);

  const next = project.deploy({ WEBSHARE_WHEELHOUSE: slowWheelhouse });
  expect(next.code).toBe(0);
  expect(await greeting()).toBe("2.0.0");
  expect(fs.readFileSync(home("private/freeze.txt"), "utf8")).toBe("webshare-extra==1.1.0\nwebshare-greeting==2.0.0\n");
});

test("Ctrl+C during pip install: the lock is released, the old venv serves, next deploy succeeds", async () => {
  project.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.0.0\n");
  const deploy = startDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse });
  await waitForProcess(pipOfUser, "pip install on the host");
  deploy.interrupt("SIGINT"); // the terminal sends it to every process of the deploy
  const result = await deploy.done;
  expect(result.code).not.toBe(0);
  expect(await greeting()).toBe("2.0.0");
  // Allow the provisioner, which outlives cdktf by a moment, to finish releasing.
  for (let i = 0; i < 50 && (fs.existsSync(lockDir()) || fs.existsSync(unitLocks())); i++) await new Promise((r) => setTimeout(r, 100));
  expect(fs.existsSync(lockDir())).toBe(false);
  expect(fs.existsSync(unitLocks())).toBe(false);

  const next = project.deploy({ WEBSHARE_WHEELHOUSE: slowWheelhouse });
  expect(next.code).toBe(0);
  expect(await greeting()).toBe("1.0.0");
});

test("a deploy whose process was killed leaves a stale lock: reported with the command that removes it", async () => {
  project.write("requirements.lock", "webshare-greeting==2.0.0\n");
  const deploy = startDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse });
  await waitForProcess(pipOfUser, "pip install on the host");
  const provisioner = descendantsOf(deploy.pid).filter((p) => p.comm === "node" && p.cmdline.includes("provision create"));
  expect(provisioner.length).toBe(1);
  process.kill(provisioner[0].pid, "SIGKILL"); // no chance to release anything
  expect((await deploy.done).code).not.toBe(0);
  // pip runs without the host lock (other units of the host may run meanwhile): the venv's own lock stays.
  expect(fs.existsSync(lockDir())).toBe(false);
  expect(fs.readdirSync(unitLocks())).toHaveLength(1);
  expect(await greeting()).toBe("1.0.0");

  const blocked = project.deploy({ WEBSHARE_WHEELHOUSE: slowWheelhouse });
  expect(blocked.code).not.toBe(0);
  const holder = `${me} pid ${provisioner[0].pid} (faults/venv, since `;
  expect(blocked.output).toContain(`faults/venv on ${target.user}@${target.host}:${target.port}: the lock of private/venvs/`);
  expect(blocked.output).toContain(` looks stale: held by ${holder}`);
  expect(blocked.output).toContain(`but process ${provisioner[0].pid} is no longer running on ${os.hostname()}`);
  expect(blocked.output).toContain("webshare host-lock --host faults/host --force");

  const look = webshare(project, ["host-lock", "faults/venv"]);
  expect(look.code).toBe(1);
  expect(look.output).toContain(`is held by ${holder}`);
  expect(look.output).toContain("it looks stale");
  const unlock = webshare(project, ["host-lock", "--host", "faults/host", "--force"]);
  expect(unlock.code).toBe(0);
  expect(unlock.output).toContain(`removed 1 unit lock on ${target.user}@${target.host}:${target.port}`);
  expect(fs.existsSync(unitLocks())).toBe(false);

  const next = project.deploy({ WEBSHARE_WHEELHOUSE: slowWheelhouse });
  expect(next.code).toBe(0);
  expect(await greeting()).toBe("2.0.0");
});

test("two deploys to one host at once: the second waits for the lock naming the holder, then both succeed", async () => {
  const second = new CdktfProject(target, wheelhouse, "faults2");
  try {
    for (const p of [project, second]) p.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.1.0\n");
    const runs = [startDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse }), startDeploy(second, { WEBSHARE_WHEELHOUSE: slowWheelhouse })];
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(`${a.output}\n${b.output}`).toMatch(new RegExp(`waiting for the (host lock|lock of \\S+) held by ${me.replace(/[.]/g, "\\.")} pid \\d+ \\(faults2?/(venv|app), since `));
    expect(await greeting()).toBe("1.0.0");
    expect(fs.existsSync(lockDir())).toBe(false);
    expect(fs.existsSync(unitLocks())).toBe(false);
  } finally {
    second.remove();
  }
});

test("two Venvs of one host build at the same time (pip runs without the host lock), and both deploys succeed", async () => {
  // Another stack on the same home: a Venv alone, at another path (its own venvs dir and lock).
  const other = new CdktfProject(target, wheelhouse, "faults3");
  try {
    other.env.WEBSHARE_VENV_PATH = "private/venv3";
    other.env.WEBSHARE_VENV_ONLY = "1";
    project.write("requirements.lock", "webshare-greeting==2.0.0\nwebshare-extra==1.0.0\n");
    other.write("requirements.lock", "webshare-greeting==1.0.0\nwebshare-extra==1.0.0\n");
    const started = Date.now();
    const runs = [startDeploy(project, { WEBSHARE_WHEELHOUSE: slowWheelhouse }), startDeploy(other, { WEBSHARE_WHEELHOUSE: slowWheelhouse })];
    // Both pip installs run on the host at once: before, the second waited for the first's whole build.
    await waitForProcess(() => processes(pipOfUser).length >= 2, "two pip installs at once");
    const [a, b] = await Promise.all(runs.map((r) => r.done));
    // Figures for docs/benchmarks.md, not assertions: the two builds and the whole of both deploys.
    const pip = (output: string) => /\] pip install \([^)]*\) (\d+\.\d)s/.exec(output)?.[1];
    console.log(`two venvs at once: pip install ${pip(a.output)} s and ${pip(b.output)} s; both deploys done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect({ code: a.code, output: a.code === 0 ? "" : a.output }).toEqual({ code: 0, output: "" });
    expect({ code: b.code, output: b.code === 0 ? "" : b.output }).toEqual({ code: 0, output: "" });
    expect(await greeting()).toBe("2.0.0");
    expect(fs.readlinkSync(home("private/venv"))).not.toBe(fs.readlinkSync(home("private/venv3")));
    expect(fs.existsSync(lockDir())).toBe(false);
    expect(fs.existsSync(unitLocks())).toBe(false);
    // One pip seed serves both Venvs of the host.
    expect(fs.readdirSync(home(".webshare")).filter((n) => n.startsWith(".pip-seed-"))).toHaveLength(1);
  } finally {
    other.remove();
  }
});
