import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AppUnitSpec, HostSpec, VenvUnitSpec } from "../../lib/spec";
import { deployVenv } from "../../lib/lifecycle/venv";
import { deployApp } from "../../lib/lifecycle/app";
import { rollback } from "../../lib/lifecycle/rollback";
import type { StepContext } from "../../lib/lifecycle/context";
import { Progress } from "../../lib/progress";
import { errorText } from "../../lib/errors";
import { installIdentity } from "../../lib/install-identity";
import { hashFlatDir, hashTree } from "../../lib/local-files";
import { renderedHashes } from "../../lib/render/unit-files";
import { LocalShellSession, tempHome } from "../support/local-shell-session";
import { fakeSite, FakeSite } from "../support/fake-site";
import { makeWheelhouse } from "../support/local-host";

/**
 * The middle tier: the real lifecycle (deployVenv, deployApp, rollback) runs its generated
 * scripts with /bin/sh on a temporary home, and a fake site answers the verified reload from
 * what the home's symlinks point at. So the branches (reuse, forced rebuild, revert on a
 * failed health check, a rejected config, a drop after the switch, inputs edited after the
 * plan) run in seconds, without sshd or Apache. The real host is the e2e tier's.
 */

const PYTHON = "/usr/bin/python3";
const VENVS = "private/venvs/private-venv";
let work: string;
let wheelhouse: string;
/** A pip seed built once (the first venv build per interpreter makes it), copied into each home. */
let seedHome: string | undefined;

beforeAll(() => {
  work = tempHome("webshare-middle");
  wheelhouse = path.join(work, "wheels");
  makeWheelhouse(wheelhouse);
});

/** Give the home the seed a first build left (building one costs seconds; the seed is relocatable). */
function copySeed(): void {
  if (seedHome === undefined) return;
  const from = path.join(seedHome, VENVS);
  fs.mkdirSync(path.join(world.home, VENVS), { recursive: true });
  for (const name of fs.readdirSync(from).filter((n) => n.startsWith(".pip-seed-"))) {
    const to = path.join(world.home, VENVS, name);
    if (!fs.existsSync(to)) execFileSync("cp", ["-a", path.join(from, name), to]);
  }
}

/** deployVenv with the shared seed: the first call in the file builds it. */
async function deployVenvSeeded(...args: Parameters<typeof deployVenv>): Promise<void> {
  copySeed();
  await deployVenv(...args);
  seedHome ??= world.home;
}
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface World {
  home: string;
  project: string;
  session: LocalShellSession;
  site: FakeSite;
  lines: string[];
  ctx: StepContext;
}

let world: World;
beforeEach(async () => {
  const home = fs.mkdtempSync(path.join(work, "home-"));
  const project = fs.mkdtempSync(path.join(work, "project-"));
  const session = new LocalShellSession(home);
  const site = await fakeSite(home);
  const lines: string[] = [];
  const ctx: StepContext = { session, place: { unit: "t/unit", target: session.target }, progress: new Progress("t/unit", (l) => lines.push(l)), instance: "test", env: {} };
  world = { home, project, session, site, lines, ctx };
});
afterEach(() => world.site.close());

function hostSpec(overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    name: "t/host",
    connection: { host: "middle-tier", port: 22, user: "tester", useAgent: false, hostKey: "SHA256:middle-tier", connectTimeoutSeconds: 10 },
    home: world.home,
    python: PYTHON,
    modWsgiModules: [],
    apache: { mode: "managed" },
    stateDir: ".webshare",
    ...overrides,
  };
}

const healthCheck = () => ({ url: world.site.healthUrl, expectStatus: 200, timeoutSeconds: 2, releaseUrl: world.site.releaseUrl });

/** A venv spec as synth would write it for a lock pinning `greeting`. */
function venvSpec(greeting: string): VenvUnitSpec {
  const lock = path.join(world.project, "requirements.lock");
  const requirements = path.join(world.project, "requirements.txt");
  fs.writeFileSync(lock, `webshare-greeting==${greeting}\n`);
  fs.writeFileSync(requirements, "webshare-greeting\n");
  return {
    kind: "venv",
    specVersion: 1,
    unit: "t/venv",
    host: hostSpec(),
    venvPath: "private/venv",
    venvsDir: VENVS,
    requirementsPath: "private/requirements.txt",
    freezePath: "private/freeze.txt",
    requirementsFile: requirements,
    lockFile: lock,
    requirements: ["webshare-greeting"],
    packages: { "webshare-greeting": greeting },
    installSha256: installIdentity(fs.readFileSync(lock, "utf8")),
    source: { extraIndexUrls: [], noIndex: true, wheelhouse },
    wheelhouseFiles: hashFlatDir(wheelhouse),
    upgradePip: false,
    apps: [{ entryPoint: "public/wwwshare.wsgi", healthCheck: healthCheck() }],
    keep: 2,
  };
}

/** An app spec as synth would write it for a source tree holding `files`. */
function appSpec(files: Record<string, string>, host: HostSpec = hostSpec()): AppUnitSpec {
  const source = fs.mkdtempSync(path.join(world.project, "app-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(source, name), text);
  const rendered = {
    unit: "t/app",
    host,
    appDir: "public",
    entryPoint: "public/wwwshare.wsgi",
    module: "app",
    callable: "app",
    mount: "/app",
    staticDirs: {},
    daemon: { name: "webshare-t-app", processes: 2, threads: 15 },
    environment: {},
    venvPath: "private/venv",
  };
  return {
    kind: "app",
    specVersion: 1,
    ...rendered,
    source,
    exclude: [],
    files: hashTree(source, []),
    releasesDir: "private/releases/public",
    healthCheck: healthCheck(),
    ...renderedHashes(rendered),
    keep: 2,
  };
}

const live = (link: string) => path.basename(fs.realpathSync(path.join(world.home, link)));
const read = (file: string) => fs.readFileSync(path.join(world.home, file), "utf8");
const failure = (p: Promise<unknown>) => p.then(() => "no error", errorText);

describe("venv deploy", () => {
  it("builds once, then reuses the venv built for the same inputs (no pip install)", async () => {
    const spec = venvSpec("1.0.0");
    await deployVenvSeeded(world.ctx, spec);
    const first = live("private/venv");
    expect(read("private/freeze.txt")).toContain("webshare-greeting==1.0.0");
    expect(world.session.steps).toContain("pip install");

    world.session.steps.length = 0;
    await deployVenvSeeded(world.ctx, spec);
    expect(live("private/venv")).toBe(first);
    expect(world.session.steps).not.toContain("pip install");
    expect(world.lines).toContainEqual(`[t/unit] venv ${first} already built for these inputs: reusing it`);
  });

  it("refuses a lock edited after the plan, names it, and changes nothing on the host", async () => {
    const spec = venvSpec("1.0.0");
    fs.writeFileSync(spec.lockFile!, "webshare-greeting==2.0.0\n");
    const message = await failure(deployVenv(world.ctx, spec));
    expect(message).toContain(`t/unit on tester@middle-tier: an input changed since the plan was made, so nothing was deployed: lock file ${spec.lockFile}`);
    expect(message).toContain("plan again");
    expect(world.session.steps).toEqual([]);
    expect(fs.readdirSync(world.home)).toEqual([]);
  });

  it("refuses a wheelhouse changed after the plan, naming the wheel", async () => {
    const spec = { ...venvSpec("1.0.0"), wheelhouseFiles: { ...hashFlatDir(wheelhouse), "gone-1.0-py3-none-any.whl": "0".repeat(64) } };
    expect(await failure(deployVenv(world.ctx, spec))).toContain(`wheelhouse ${wheelhouse} (gone-1.0-py3-none-any.whl)`);
  });

  it("forced rebuild (drift --fix) builds beside the live venv and retires the drifted one", async () => {
    const spec = venvSpec("1.0.0");
    await deployVenvSeeded(world.ctx, spec);
    const drifted = live("private/venv");
    await deployVenvSeeded(world.ctx, spec, { forceRebuild: true });
    const rebuilt = live("private/venv");
    expect(rebuilt).not.toBe(drifted);
    expect(fs.existsSync(path.join(world.home, VENVS, drifted, ".webshare-ready"))).toBe(false);
    expect(fs.existsSync(path.join(world.home, VENVS, rebuilt, ".webshare-ready"))).toBe(true);
  });

  it("switches back when the new venv does not serve, with freeze.txt and requirements.txt of the old one", async () => {
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    await deployApp(world.ctx, appSpec({ "app.py": "app = None\n" }));
    const good = live("private/venv");
    const before = { freeze: read("private/freeze.txt"), requirements: read("private/requirements.txt") };
    world.site.broken = ({ venv }) => venv !== good;

    const next = venvSpec("2.0.0");
    fs.writeFileSync(next.requirementsFile!, "webshare-greeting>=2\n");
    const message = await failure(deployVenvSeeded(world.ctx, { ...next, requirements: ["webshare-greeting>=2"] }));
    expect(message).toContain(`switched back to the previous venv ${good}`);
    expect(live("private/venv")).toBe(good);
    expect({ freeze: read("private/freeze.txt"), requirements: read("private/requirements.txt") }).toEqual(before);
    expect(world.lines.some((l) => l.startsWith("[t/unit] switch back (switched back to the previous venv"))).toBe(true);
  });
});

describe("app deploy", () => {
  it("reuses a release that is already on the host", async () => {
    const spec = appSpec({ "app.py": "app = 1\n" });
    await deployApp(world.ctx, spec);
    const first = live("public");
    world.session.steps.length = 0;
    await deployApp(world.ctx, spec);
    expect(live("public")).toBe(first);
    expect(world.session.steps).not.toContain("upload app");
    expect(world.lines).toContainEqual(`[t/unit] release ${first} already on the host: reusing it`);
  });

  it("refuses app files edited after the plan, naming them", async () => {
    const spec = appSpec({ "app.py": "app = 1\n", "views.py": "v = 1\n" });
    fs.writeFileSync(path.join(spec.source, "views.py"), "v = 2\n");
    fs.writeFileSync(path.join(spec.source, "new.py"), "n = 1\n");
    expect(await failure(deployApp(world.ctx, spec))).toContain("changed since the plan was made, so nothing was deployed: app files new.py, views.py");
    expect(fs.existsSync(path.join(world.home, "public"))).toBe(false);
  });

  it("refuses a rendered entry point that differs from the planned one", async () => {
    const spec = { ...appSpec({ "app.py": "app = 1\n" }), entryPointSha256: "0".repeat(64) };
    expect(await failure(deployApp(world.ctx, spec))).toContain("rendered entry point (a different webshare-cdktf version than the one that planned?)");
  });

  it("switches back to the previous release when the new one fails its health check", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const good = live("public");
    world.site.broken = ({ release }) => release !== good;
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "import missing\n" })));
    expect(message).toContain(`failed after the switch`);
    expect(message).toContain(`switched back to the previous release ${good}`);
    expect(live("public")).toBe(good);
  });

  it("self-managed: a config Apache rejects is removed again and nothing switches", async () => {
    const confDir = path.join(world.home, "sites");
    fs.mkdirSync(confDir);
    const host = hostSpec({ apache: { mode: "self", confDir, testCommand: ["sh", "-c", "echo 'Syntax error on line 3'; exit 1"], reloadCommand: ["true"] } });
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }, host)));
    expect(message).toContain("Syntax error on line 3");
    expect(fs.readdirSync(confDir)).toEqual([]);
    expect(fs.existsSync(path.join(world.home, "public"))).toBe(false);
  });

  it("a connection lost after the switch fails the deploy with the step named", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    world.session.dropAt = "switch back";
    world.site.broken = () => true;
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "app = 2\n" })));
    expect(message).toContain('"switch back"');
  });
});

describe("rollback", () => {
  it("goes back to the previous release and verifies it; a second rollback goes forward again", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const first = live("public");
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n" }));
    const second = live("public");
    const spec = appSpec({ "app.py": "app = 2\n" });
    expect(await rollback(world.ctx, spec)).toEqual({ from: second, to: first, switched: true });
    expect(live("public")).toBe(first);
    expect(JSON.parse(read(`.webshare/units/${fs.readdirSync(path.join(world.home, ".webshare/units"))[0]}`))).toMatchObject({ current: first, rolledBackFrom: second });
  });

  it("switches back to what served when the kept release does not serve", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const first = live("public");
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n" }));
    const second = live("public");
    world.site.broken = ({ release }) => release === first;
    const message = await failure(rollback(world.ctx, appSpec({ "app.py": "app = 2\n" })));
    expect(message).toContain(`switched back to ${second}, which served before`);
    expect(live("public")).toBe(second);
  });
});
