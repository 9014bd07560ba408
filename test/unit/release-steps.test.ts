import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { AppUnitSpec, HostSpec } from "../../lib/spec";
import { deployApp } from "../../lib/lifecycle/app";
import type { StepContext } from "../../lib/lifecycle/context";
import { Progress } from "../../lib/progress";
import { errorText } from "../../lib/errors";
import { hashTree } from "../../lib/local-files";
import { renderedHashes } from "../../lib/render/unit-files";
import { LocalShellSession, middleTierHost, tempHome } from "../support/local-shell-session";
import { fakeSite, FakeSite } from "../support/fake-site";

/**
 * The steps before the switch (middle tier: the real scripts run with /bin/sh on a temp
 * home, a fake site answers the verify): the import check of the new release and the
 * release commands. Each failure must leave the previous release serving and say why.
 * The venv is a stand-in: `private/venv/bin/python` is a script that logs its call and runs
 * this machine's python3, so these tests need no venv build.
 */

let work: string;
beforeAll(() => (work = tempHome("webshare-release-steps")));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface World {
  home: string;
  project: string;
  session: LocalShellSession;
  site: FakeSite;
  lines: string[];
  ctx: StepContext;
  abortScripts: Map<string, string>;
}
let world: World;

beforeEach(async () => {
  const home = fs.mkdtempSync(path.join(work, "home-"));
  const project = fs.mkdtempSync(path.join(work, "project-"));
  // The stand-in venv: a real dir behind the private/venv link, as a venv deploy leaves it.
  const venv = path.join(home, "private/venvs/private-venv/0123456789abcdef");
  fs.mkdirSync(path.join(venv, "bin"), { recursive: true });
  fs.writeFileSync(path.join(venv, "bin/python"), `#!/bin/sh\necho "$0" >> "$HOME/venv-python-calls"\nexec /usr/bin/python3 "$@"\n`, { mode: 0o755 });
  fs.symlinkSync("venvs/private-venv/0123456789abcdef", path.join(home, "private/venv"));
  const session = new LocalShellSession(home);
  const site = await fakeSite(home);
  const lines: string[] = [];
  const abortScripts = new Map<string, string>();
  const ctx: StepContext = { session, place: { unit: "t/app", target: session.target }, progress: new Progress("t/app", (l) => lines.push(l)), instance: "test", env: {}, abortScripts };
  world = { home, project, session, site, lines, ctx, abortScripts };
});
afterEach(() => world.site.close());

function hostSpec(): HostSpec {
  return middleTierHost(world.home);
}

/** An app spec as synth writes it for a source tree holding `files`. */
function appSpec(files: Record<string, string>, extra: { releaseCommands?: string[][]; environment?: Record<string, string>; timeoutSeconds?: number } = {}): AppUnitSpec {
  const source = fs.mkdtempSync(path.join(world.project, "app-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(source, name), text);
  const rendered = {
    unit: "t/app",
    host: hostSpec(),
    appDir: "public",
    entryPoint: "public/wwwshare.wsgi",
    module: "app",
    callable: "app",
    mount: "/app",
    staticDirs: {},
    daemon: { name: "webshare-t-app", processes: 2, threads: 15 },
    environment: extra.environment ?? {},
    venvPath: "private/venv",
  };
  return {
    kind: "app",
    specVersion: 1,
    ...rendered,
    ...(extra.releaseCommands && { releaseCommands: extra.releaseCommands }),
    source,
    exclude: [],
    files: hashTree(source, []),
    releasesDir: "private/releases/public",
    healthCheck: { url: world.site.healthUrl, expectStatus: 200, timeoutSeconds: extra.timeoutSeconds ?? 2, releaseUrl: world.site.releaseUrl },
    ...renderedHashes(rendered),
    keep: 2,
  };
}

const GOOD = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n";
const live = () => path.basename(fs.realpathSync(path.join(world.home, "public")));
const failure = (p: Promise<unknown>) => p.then(() => "no error", errorText);
const releaseDirs = () => fs.readdirSync(path.join(world.home, "private/releases/public")).filter((n) => /^[0-9a-f]{16}$/.test(n));
const running = (marker: string) => execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(marker) && !l.startsWith("ps "));

describe("release commands", () => {
  it("run in order in the new release, with the venv's python and the app's environment, before the switch", async () => {
    const order = (n: string) => ["python", "-c", `import os, sys; open('order.txt', 'a').write('${n} %s %s %s\\n' % (os.getcwd(), os.environ['GREETING'], sys.prefix == sys.base_prefix))`];
    const spec = appSpec({ "app.py": GOOD }, { environment: { GREETING: "it's $HOME `x`" }, releaseCommands: [order("one"), ["sh", "-c", "echo two >> order.txt; echo 'shown after the command'"], order("three")] });
    await deployApp(world.ctx, spec);
    const release = fs.realpathSync(path.join(world.home, "public"));
    expect(fs.readFileSync(path.join(release, "order.txt"), "utf8")).toBe(`one ${release} it's $HOME \`x\` True\ntwo\nthree ${release} it's $HOME \`x\` True\n`);
    // `python` was the venv's (the stand-in logs each call through the private/venv link).
    expect(fs.readFileSync(path.join(world.home, "venv-python-calls"), "utf8").trim().split("\n")).toEqual(Array(3).fill(`${world.home}/private/venv/bin/python`));
    const steps = world.session.steps;
    expect(steps.indexOf("import check")).toBeLessThan(steps.indexOf("release command"));
    expect(steps.lastIndexOf("release command")).toBeLessThan(steps.indexOf("switch release"));
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/app\] release command 2\/3 \(sh -c 'echo two >> order.txt; echo '\\''shown after the command'\\'''\) \d+\.\ds$/));
    expect(world.lines).toContainEqual("[t/app]   | shown after the command");
    expect(world.abortScripts.size).toBe(0);
  });

  it("a failing command stops the deploy before the switch: the old release serves, the message names command, exit status and output", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    const good = live();
    world.session.steps.length = 0;
    const spec = appSpec({ "app.py": GOOD + "# v2\n" }, { releaseCommands: [["true"], ["sh", "-c", "echo 'Applying notes.0002... FAILED'; echo 'django.db.utils.OperationalError: no such table' >&2; exit 3"], ["touch", "never"]] });
    const message = await failure(deployApp(world.ctx, spec));
    expect(message).toContain("t/app on tester@middle-tier: release command 2 of 3 failed (exit 3): sh -c");
    expect(message).toMatch(/the new release [0-9a-f]{16} was not switched in, the previous release keeps serving/);
    expect(message).toContain("Applying notes.0002... FAILED\ndjango.db.utils.OperationalError: no such table");
    expect(live()).toBe(good);
    expect(world.session.steps).not.toContain("switch release");
    const failed = releaseDirs().find((id) => id !== good)!;
    expect(fs.existsSync(path.join(world.home, "private/releases/public", failed, "never"))).toBe(false);
    // Never marked ready: no rollback can pick it.
    expect(fs.existsSync(path.join(world.home, "private/releases/public", failed, ".webshare-ready"))).toBe(false);
  });

  it("a new release is its own before commands write into it: no carried-over output, no inode shared with the live release", async () => {
    const writeDb = ["python", "-c", "open('db.sqlite3', 'a').write('row\\n'); open('app.py', 'a').write('# edited in place by a command\\n')"];
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }, { releaseCommands: [writeDb] }));
    const first = fs.realpathSync(path.join(world.home, "public"));
    const firstApp = fs.readFileSync(path.join(first, "app.py"), "utf8");
    await deployApp(world.ctx, appSpec({ "app.py": GOOD, "views.py": "v = 2\n" }, { releaseCommands: [writeDb] }));
    const second = fs.realpathSync(path.join(world.home, "public"));
    expect(second).not.toBe(first);
    expect(fs.readFileSync(path.join(first, "db.sqlite3"), "utf8")).toBe("row\n");
    expect(fs.readFileSync(path.join(first, "app.py"), "utf8")).toBe(firstApp);
    expect(fs.readFileSync(path.join(second, "db.sqlite3"), "utf8")).toBe("row\n");
    expect(world.lines).toContainEqual(expect.stringMatching(/prepare release for commands \(\d+ carried-over files? removed, \d+ shared files? given its own copy\)/));
  });

  it("run again when the release is already on the host", async () => {
    const spec = appSpec({ "app.py": GOOD }, { releaseCommands: [["sh", "-c", "echo x >> runs.txt"]] });
    await deployApp(world.ctx, spec);
    await deployApp(world.ctx, spec);
    expect(fs.readFileSync(path.join(world.home, "public/runs.txt"), "utf8")).toBe("x\nx\n");
    expect(world.lines).toContainEqual(expect.stringMatching(/release [0-9a-f]{16} already serves: its release commands run in the serving directory/));
  });

  it("Ctrl+C: the registered abort script stops the remote command and everything it started", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    const good = live();
    const marker = `webshare-sleep-${path.basename(world.home)}`;
    const deploy = failure(deployApp(world.ctx, appSpec({ "app.py": GOOD + "# v2\n" }, { releaseCommands: [["python", "-c", "import time; time.sleep(300)", marker]] })));
    const deadline = Date.now() + 10_000;
    while ((world.abortScripts.size === 0 || running(marker).length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running(marker).length).toBeGreaterThan(0);
    // What the provisioner does on an interrupt: the registered scripts over a new connection.
    const other = new LocalShellSession(world.home);
    for (const script of world.abortScripts.keys()) expect((await other.run(world.ctx.place, "abort", script)).stdout).toMatch(/^stopped \d+/);
    expect(await deploy).toMatch(/release command 1 of 1 failed \(exit \d+\)/);
    expect(running(marker)).toEqual([]);
    expect(live()).toBe(good);
  });
});

describe("import check", () => {
  it("an app that raises at import fails before the switch, with the exception, and the old release serves", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    const good = live();
    world.session.steps.length = 0;
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "import os\nraise RuntimeError('boom at import: ' + os.environ['WHERE'])\n" }, { environment: { WHERE: "in the new release" }, releaseCommands: [["touch", "ran"]] })));
    expect(message).toMatch(/t\/app on tester@middle-tier: the new release [0-9a-f]{16} cannot be served: importing app:app with the new venv failed: RuntimeError: boom at import: in the new release; it was not switched in, the previous release keeps serving/);
    expect(message).toContain('File "');
    expect(live()).toBe(good);
    expect(world.session.steps).not.toContain("switch release");
    // The release commands of a release that does not import never ran.
    expect(world.session.steps).not.toContain("release command");
    expect(world.site.failedRequests).toBe(0);
  });

  it("imports the user's module from the release dir, not the entry point, and needs a callable", async () => {
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "import os\nassert os.getcwd() == os.path.dirname(os.path.realpath(__file__))\napp = 42\n" })));
    expect(message).toContain("importing app:app with the new venv failed: app:app is a int, not a WSGI callable");
  });

  it("a hang at import is stopped by the time limit, and nothing of it keeps running", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    const good = live();
    const started = Date.now();
    const marker = `hang-${path.basename(world.home)}`;
    const ctx = { ...world.ctx, env: { WEBSHARE_IMPORT_CHECK_SECONDS: "1" } };
    const message = await failure(deployApp(ctx, appSpec({ "app.py": `import time\nMARK = '${marker}'\ntime.sleep(600)\n` })));
    expect(message).toMatch(/importing app:app with the new venv did not finish within 1s \(a hang at import: it was stopped\)/);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(live()).toBe(good);
    expect(running(releaseDirs().find((id) => id !== good)!)).toEqual([]);
  });

  it("a bad WEBSHARE_IMPORT_CHECK_SECONDS is refused by name", async () => {
    const ctx = { ...world.ctx, env: { WEBSHARE_IMPORT_CHECK_SECONDS: "soon" } };
    expect(await failure(deployApp(ctx, appSpec({ "app.py": GOOD })))).toContain('WEBSHARE_IMPORT_CHECK_SECONDS is "soon", but it must be a whole number of seconds, 1-3600');
  });

  it("rides in the upload's exchange (the switch too), with a line of its own and the seconds the host measured", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployApp(world.ctx, appSpec({ "app.py": `${GOOD}\n# changed\n` }));
    expect(world.session.steps).toEqual(["read current release", "upload app", "record unit and prune"]);
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/app\] import check \(app:app imports\) \d+\.\ds$/));
  });

  it("importCheck: false skips it", async () => {
    world.lines.length = 0;
    await deployApp(world.ctx, { ...appSpec({ "app.py": "raise RuntimeError('only under mod_wsgi')\n" }), importCheck: false });
    expect(live()).toMatch(/^[0-9a-f]{16}$/);
    expect(world.lines.filter((l) => l.includes("import check"))).toEqual([]);
  });
});

describe("verify after the switch", () => {
  it("a steady server error fails fast instead of waiting out the timeout, and switches back", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": GOOD }));
    const good = live();
    world.site.broken = ({ release }) => release !== good;
    const started = Date.now();
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": GOOD + "# fails only under mod_wsgi\n" }, { timeoutSeconds: 60 })));
    const took = Date.now() - started;
    expect(message).toMatch(/HTTP 500: ModuleNotFoundError: No module named 'greeting' \(the same answer \d+ times in a row over \d+\.\ds: a steady error, not a restart\) \(release [0-9a-f]{16} was not serving; gave up before the 60s timeout\)/);
    expect(message).toContain(`switched back to the previous release ${good}`);
    expect(took).toBeLessThan(10_000);
    expect(live()).toBe(good);
  });
});
