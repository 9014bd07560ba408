import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";
import { webshare } from "../support/webshare-cli";

/**
 * Issue 12 (5, 9, 10) against the real host, managed mode (the hoster's Apache: mod_wsgi
 * daemon as the deploy user, static files served by www-data):
 * - another local user can neither list the releases nor read app code, freeze or
 *   requirements files; a local .env is not uploaded; static files and the app still serve;
 * - a deploy user whose ~/.bashrc prints (stdout and stderr) deploys, drifts and rolls back,
 *   and the lock is released each time;
 * - a full filesystem is named with df's report, and leaves no partial release or temp file.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const home = (p: string) => path.join(target.home, p);
const OTHER = process.env.WEBSHARE_OTHER_USER ?? "wspvother";
let bashrc: string | undefined;

/** Run a command as the other local user; its exit code and output. */
function asOther(...argv: string[]): { code: number; output: string } {
  const r = spawnSync("runuser", ["-u", OTHER, "--", ...argv], { encoding: "utf8", cwd: "/" });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const lockGone = () => !fs.existsSync(home(".webshare/lock"));

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  spawnSync("useradd", ["--create-home", "--shell", "/bin/sh", OTHER]);
  const rc = home(".bashrc");
  bashrc = fs.existsSync(rc) ? fs.readFileSync(rc, "utf8") : undefined;
  // At the top: Debian's skeleton .bashrc returns early for non-interactive shells.
  fs.writeFileSync(rc, `echo "Welcome to the host"\necho "this host prints on stderr too" >&2\n${bashrc ?? ""}`);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "priv");
  project.env.WEBSHARE_HEALTH_TIMEOUT = "8";
  project.write(".env", "SECRET_KEY=do-not-upload\n");
  project.write("settings_local.py", "TOKEN = 'local only'\n");
  fs.chmodSync(path.join(project.appDir, "settings_local.py"), 0o600);
}, 120_000);

afterAll(() => {
  // The deploy user's shell startup goes back to what it was.
  if (bashrc === undefined) fs.rmSync(home(".bashrc"), { force: true });
  else if (target !== undefined) fs.writeFileSync(home(".bashrc"), bashrc);
  project?.remove();
});

test("a login shell that prints does not hang a deploy; the lock is released", async () => {
  // Proof the noise is there: plain ssh shows it.
  const ssh = spawnSync("ssh", ["-i", target.key, "-p", String(target.port), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${path.join(path.dirname(target.key), "known_hosts")}`, `${target.user}@${target.host}`, "true"], { encoding: "utf8" });
  expect(ssh.stdout).toContain("Welcome to the host");
  const result = project.webshareDeploy();
  expect({ code: result.code, output: result.code === 0 ? "" : result.output }).toEqual({ code: 0, output: "" });
  expect(lockGone()).toBe(true);
  expect((await httpGet(target.url)).status).toBe(200);
  const asset = await httpGet(new URL("static/hello.txt", target.url).toString());
  expect(asset.status).toBe(200);
}, 180_000);

test("another local user cannot list releases or read app code, freeze or requirements; .env was not uploaded", () => {
  const release = fs.realpathSync(home("public"));
  expect(fs.existsSync(path.join(release, ".env"))).toBe(false);
  expect(fs.existsSync(path.join(release, "settings_local.py"))).toBe(true);
  const denied = [
    ["ls", home("private")],
    ["ls", home("private/releases")],
    ["ls", path.dirname(release)],
    ["ls", release],
    ["ls", home("private/venvs")],
    ["cat", path.join(release, "app.py")],
    ["cat", path.join(release, "settings_local.py")],
    ["cat", path.join(release, "wwwshare.wsgi")],
    ["cat", path.join(release, ".webshare-manifest.json")],
    ["cat", home("private/freeze.txt")],
    ["cat", home("private/requirements.txt")],
    ["cat", path.join(fs.realpathSync(home("private/venv")), "pyvenv.cfg")],
    ["ls", home(".webshare")],
  ];
  const readable = denied.map((argv) => ({ argv: argv.join(" "), ...asOther(...argv) })).filter((r) => r.code === 0);
  expect(readable).toEqual([]);
  // What Apache's workers must read stays readable: the static files.
  expect(asOther("cat", path.join(release, "static/hello.txt")).code).toBe(0);
  // The local 0600 file is 0600 on the host, app code has no group/other bits.
  expect(fs.statSync(path.join(release, "settings_local.py")).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(release, "app.py")).mode & 0o077).toBe(0);
});

test("drift and rollback work under the noisy shell and release the lock", async () => {
  const drift = webshare(project, ["drift"]);
  expect(drift.output).toContain("no drift");
  expect(drift.code).toBe(0);
  project.write("app.py", project.read("app.py").replace(/Hello/g, "Howdy"));
  const second = project.webshareDeploy();
  expect({ code: second.code, output: second.code === 0 ? "" : second.output }).toEqual({ code: 0, output: "" });
  expect((await httpGet(target.url)).body).toContain("Howdy");
  const rollback = webshare(project, ["rollback", "priv/app"]);
  expect({ code: rollback.code, output: rollback.code === 0 ? "" : rollback.output }).toEqual({ code: 0, output: "" });
  expect((await httpGet(target.url)).body).toContain("Hello");
  expect(lockGone()).toBe(true);
  expect((await httpGet(new URL("static/hello.txt", target.url).toString())).status).toBe(200);
}, 240_000);

test("a full filesystem is named with df's report and leaves no partial release or temp file", async () => {
  const releases = home("private/releases/public");
  const uid = fs.statSync(target.home).uid;
  const gid = fs.statSync(target.home).gid;
  // Over the releases dir (the live release is hidden while it is mounted, and this deploy fails before any switch).
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=2m,mode=0711,uid=${uid},gid=${gid}`, "tmpfs", releases]);
  try {
    fs.writeFileSync(path.join(project.appDir, "big.bin"), Buffer.alloc(3 * 1024 * 1024, 7));
    const result = project.webshareDeploy();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`no space left on ${releases}`);
    expect(result.output).toMatch(/Filesystem\s+1024-blocks\s+Used\s+Available/);
    expect(fs.readdirSync(releases)).toEqual([]);
    expect(lockGone()).toBe(true);
  } finally {
    execFileSync("umount", [releases]);
    fs.rmSync(path.join(project.appDir, "big.bin"), { force: true });
  }
  // The live release was never touched.
  expect((await httpGet(target.url)).status).toBe(200);
}, 240_000);
