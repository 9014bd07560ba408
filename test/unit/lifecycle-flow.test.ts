import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AppUnitSpec, HostSpec, VenvUnitSpec } from "../../lib/spec";
import { deployVenv, destroyVenv } from "../../lib/lifecycle/venv";
import { deployApp } from "../../lib/lifecycle/app";
import { rollback } from "../../lib/lifecycle/rollback";
import type { StepContext } from "../../lib/lifecycle/context";
import { Progress } from "../../lib/progress";
import { errors, errorText } from "../../lib/errors";
import { installIdentity } from "../../lib/install-identity";
import { hashFlatDir, hashTree } from "../../lib/local-files";
import { apacheConfigOf, renderedHashes } from "../../lib/render/unit-files";
import { LocalShellSession, middleTierHost, tempHome } from "../support/local-shell-session";
import { fakeSite, FakeSite } from "../support/fake-site";
import { makeWheelhouse } from "../support/local-host";
import { probeHost } from "../../lib/drift/probe";
import { appPaths, compareApp } from "../../lib/drift/compare";
import { fixHost } from "../../lib/drift/fix";
import { renderCheckText } from "../../lib/drift/render";
import type { AppDrift } from "../../lib/drift/model";
import { databaseYmlDigest } from "../../lib/database-yml";
import { secretDigest } from "../../lib/secrets";
import { hostLock } from "../../lib/lifecycle/host-lock";
import { LockingSession } from "../../lib/host/locking-session";
import { ForwardingSession } from "../../lib/ssh/forwarding-session";
import type { ExecResult, FilesAndScript, RemoteSession } from "../../lib/ssh/remote-session";
import type { Place } from "../../lib/errors";

/**
 * The middle tier: the real lifecycle (deployVenv, deployApp, rollback) runs its generated
 * scripts with /bin/sh on a temporary home, and a fake site answers the verified reload from
 * what the home's symlinks point at. So the branches (reuse, forced rebuild, revert on a
 * failed health check, a rejected config, a drop after the switch, inputs edited after the
 * plan) run in seconds, without sshd or Apache. The real host is the e2e tier's.
 */

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

/** Where a host keeps its pip seeds: its state dir. */
const SEEDS = ".webshare";

/** Give the home the seed a first build left (building one costs seconds; the seed is relocatable). */
function copySeed(): void {
  if (seedHome === undefined) return;
  const from = path.join(seedHome, SEEDS);
  fs.mkdirSync(path.join(world.home, SEEDS), { recursive: true });
  for (const name of fs.readdirSync(from).filter((n) => n.startsWith(".pip-seed-") && !n.includes(".build-"))) {
    const to = path.join(world.home, SEEDS, name);
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
  return middleTierHost(world.home, overrides);
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
function appSpec(files: Record<string, string>, host: HostSpec = hostSpec(), staticDirs: Record<string, string> = {}, modes: Record<string, number> = {}, app = { unit: "t/app", dir: "public", site: () => world.site }): AppUnitSpec {
  const source = fs.mkdtempSync(path.join(world.project, "app-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
    fs.writeFileSync(path.join(source, name), text);
    if (modes[name] !== undefined) fs.chmodSync(path.join(source, name), modes[name]);
  }
  const rendered = {
    unit: app.unit,
    host,
    appDir: app.dir,
    entryPoint: `${app.dir}/wwwshare.wsgi`,
    module: "app",
    callable: "app",
    mount: "/app",
    staticDirs,
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
    releasesDir: `private/releases/${app.dir}`,
    healthCheck: { url: app.site().healthUrl, expectStatus: 200, timeoutSeconds: 2, releaseUrl: app.site().releaseUrl },
    // These apps are stand-ins (`app = 1`) in homes without a venv; the import check has its own tests (release-steps).
    importCheck: false,
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

  it("with the seed and the wheels on the host, a build is one exchange (create, pip install, freeze record, and the switch); going back to a kept venv costs three exchanges", async () => {
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    const first = live("private/venv");
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployVenvSeeded(world.ctx, venvSpec("2.0.0"));
    // The probe's read lists the ready seeds and the wheelhouse: nothing to upload or build first.
    expect(world.session.steps).toEqual(["check Python", "pip install", "record unit and prune"]);
    expect(world.lines).toContainEqual("[t/unit] wheelhouse: the host has all 5 wheels already");
    expect(world.lines).toContainEqual("[t/unit] create venv and pip install started");
    // Each step still gets its own line, with the seconds the host measured for it.
    const ended = world.lines.filter((l) => /^\[t\/unit\] (create venv|pip install|record pip freeze) /.test(l) && !l.endsWith("started"));
    expect(ended).toEqual([
      expect.stringMatching(/^\[t\/unit\] create venv \([0-9a-f]{16}; pip linked from the seed\) \d+\.\ds$/),
      expect.stringMatching(/^\[t\/unit\] pip install \(1 requirement\) \d+\.\ds$/),
      expect.stringMatching(/^\[t\/unit\] record pip freeze \d+\.\ds$/),
    ]);
    // The switch rode at the end of that exchange; its line follows the build's.
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/unit\] switch venv \(private\/venv -> [0-9a-f]{16}; touched 0 entry points\) \d+\.\ds$/));
    expect(read("private/requirements.txt")).toContain("webshare-greeting");
    expect(fs.statSync(path.join(world.home, "private/requirements.txt")).mode & 0o777).toBe(0o600);
    expect(read("private/freeze.txt")).toContain("webshare-greeting==2.0.0");
    world.session.steps.length = 0;
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    expect(live("private/venv")).toBe(first);
    // The venvs on the host are read with the probe, the requirements copy travels with the switch, the record with the prune.
    expect(world.session.steps).toEqual(["check Python", "switch venv", "record unit and prune"]);
    expect(read("private/freeze.txt")).toContain("webshare-greeting==1.0.0");
    expect(fs.statSync(path.join(world.home, "private/venv/.webshare-requirements.txt")).mode & 0o777).toBe(0o600);
  });

  it("the requirements ride in the switch's text quoted, byte for byte; past 16 KiB they go on stdin, in a switch of its own, and an interrupt during that build switches nothing", async () => {
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    const hostile = "# it's $(touch pwned) `touch pwned2` \"q\" \\ %s\nwebshare-greeting\n";
    const withRequirements = (greeting: string, text: string) => {
      const spec = venvSpec(greeting);
      fs.writeFileSync(spec.requirementsFile!, text);
      return spec;
    };
    world.session.steps.length = 0;
    await deployVenvSeeded(world.ctx, withRequirements("2.0.0", hostile));
    expect(world.session.steps).toEqual(["check Python", "pip install", "record unit and prune"]);
    expect(read("private/requirements.txt")).toBe(hostile);
    expect(fs.readdirSync(world.home).filter((n) => n.startsWith("pwned"))).toEqual([]);
    // The 1.0.0 venv is built again (no longer ready), so its switch follows a build.
    const live2 = live("private/venv");
    for (const id of fs.readdirSync(path.join(world.home, VENVS)).filter((d) => /^[0-9a-f]{16}$/.test(d) && d !== live2)) fs.rmSync(path.join(world.home, VENVS, id, ".webshare-ready"), { force: true });
    // While it builds, an interrupt's switch back must change nothing: the switch has not run.
    const entryPoint = path.join(world.home, "public/wwwshare.wsgi");
    fs.mkdirSync(path.dirname(entryPoint), { recursive: true });
    fs.writeFileSync(entryPoint, "");
    fs.utimesSync(entryPoint, new Date(1_000_000), new Date(1_000_000));
    const registered = new Map<string, string>();
    const seen: { notes: string[]; link: string; mtime: number }[] = [];
    const interruptDuringBuild = new (class extends ForwardingSession {
      async runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
        if (step === "pip install") {
          for (const abort of registered.keys()) await this.inner.run(place, "abort", abort);
          seen.push({ notes: [...registered.values()].filter((n) => n !== ""), link: live("private/venv"), mtime: fs.statSync(entryPoint).mtimeMs });
        }
        return this.inner.runRaw(place, step, script, stdin);
      }
    })(world.session);
    const long = `${hostile}${"# padding\n".repeat(2000)}`;
    world.session.steps.length = 0;
    await deployVenvSeeded({ ...world.ctx, session: interruptDuringBuild, abortScripts: registered }, withRequirements("1.0.0", long));
    expect(world.session.steps).toEqual(["check Python", "abort", "abort", "pip install", "switch venv", "record unit and prune"]);
    expect(seen).toEqual([{ notes: [expect.stringMatching(/^interrupted before venv [0-9a-f]{16} was verified: switching back to [0-9a-f]{16}, the last verified venv if it was switched in$/)], link: live2, mtime: 1_000_000 }]);
    expect(read("private/requirements.txt")).toBe(long);
    expect(live("private/venv")).not.toBe(live2);
  });

  it("a wheel the host lacks is uploaded in one exchange, beside the venv's creation: the probe's read already listed the wheelhouse", async () => {
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    const hostWheels = path.join(world.home, ".webshare/wheelhouse");
    const gone = fs.readdirSync(hostWheels).find((n) => n.startsWith("webshare_greeting-2.0.0"))!;
    fs.rmSync(path.join(hostWheels, gone));
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployVenvSeeded(world.ctx, venvSpec("2.0.0"));
    const steps = world.session.steps;
    expect([steps[0], [...steps.slice(1, 3)].sort(), ...steps.slice(3)]).toEqual(["check Python", ["create venv", "upload wheelhouse"], "pip install", "record unit and prune"]);
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/unit\] upload wheelhouse \(1 new of 5 wheels\) \d+\.\ds$/));
    expect(fs.readdirSync(hostWheels)).toContain(gone);
    expect(fs.readdirSync(hostWheels).filter((n) => n.startsWith(".incoming-"))).toEqual([]);
    expect(read("private/freeze.txt")).toContain("webshare-greeting==2.0.0");
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

describe("one pip seed per host and interpreter", () => {
  /** A second Venv of the same host: its own link, venvs dir, files and unit. */
  const otherVenv = (spec: VenvUnitSpec): VenvUnitSpec => ({
    ...spec,
    unit: "t/venv2",
    venvPath: "private/venv2",
    venvsDir: "private/venvs/other-venv",
    requirementsPath: "private/requirements2.txt",
    freezePath: "private/freeze2.txt",
    apps: [],
  });
  const seeds = () => fs.readdirSync(path.join(world.home, SEEDS)).filter((n) => n.startsWith(".pip-seed-"));
  const pipInode = (venvLink: string) => {
    const lib = path.join(world.home, venvLink, "lib");
    const version = fs.readdirSync(lib)[0]!;
    return fs.statSync(path.join(lib, version, "site-packages/pip/__init__.py")).ino;
  };

  it("two Venvs of one host link pip from the same seed, built once in the state dir", async () => {
    // No seed copied in: this home builds its own, so the first build must say so.
    const spec = venvSpec("1.0.0");
    await deployVenv(world.ctx, spec);
    seedHome ??= world.home;
    expect(world.lines.some((l) => /create venv \([0-9a-f]{16}; pip seed built first: \.pip-seed-[0-9a-f]{16}\)/.test(l))).toBe(true);
    world.lines.length = 0;
    await deployVenv(world.ctx, otherVenv(spec));
    expect(world.lines.some((l) => /create venv \([0-9a-f]{16}; pip linked from the seed\)/.test(l))).toBe(true);

    expect(seeds()).toHaveLength(1);
    expect(fs.readdirSync(path.join(world.home, VENVS)).filter((n) => n.startsWith("."))).toEqual([".history"]);
    const seedInode = fs.statSync(path.join(world.home, SEEDS, seeds()[0]!, "lib", fs.readdirSync(path.join(world.home, SEEDS, seeds()[0]!, "lib"))[0]!, "site-packages/pip/__init__.py")).ino;
    expect(pipInode("private/venv")).toBe(seedInode);
    expect(pipInode("private/venv2")).toBe(seedInode);
  });

  it("destroying one Venv keeps the seed the other still builds from; the last one takes it along", async () => {
    const spec = venvSpec("1.0.0");
    await deployVenvSeeded(world.ctx, spec);
    await deployVenvSeeded(world.ctx, otherVenv(spec));
    expect(seeds()).toHaveLength(1);

    await destroyVenv(world.ctx, otherVenv(spec));
    expect(seeds()).toHaveLength(1);
    expect(fs.existsSync(path.join(world.home, "private/venv2"))).toBe(false);
    // The venv left still works: its pip runs.
    expect(execFileSync(path.join(world.home, "private/venv/bin/pip"), ["--version"], { encoding: "utf8" })).toMatch(/^pip \d/);

    await destroyVenv(world.ctx, spec);
    expect(seeds()).toEqual([]);
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

  it("a first deploy writes the hoster's Apache snippet (0600, byte for byte) with the switch: three exchanges, as a code change", async () => {
    world.session.steps.length = 0;
    // A URL path that quotes, substitutes and globs, should anything run it.
    const spec = appSpec({ "app.py": "app = 1\n", "static/site.css": "a {}\n" }, hostSpec(), { "/st'at $(echo x) `id` *": "static" });
    await deployApp(world.ctx, spec);
    expect(world.session.steps).toEqual(["read current release", "upload app", "record unit and prune"]);
    const dir = path.join(world.home, ".webshare/apache");
    const [snippet] = fs.readdirSync(dir);
    expect(fs.statSync(path.join(dir, snippet!)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, snippet!), "utf8")).toBe(apacheConfigOf(spec));
    expect(apacheConfigOf(spec)).toContain("$(echo x) `id`");
    expect(world.lines).toContainEqual(`[t/unit] Apache is managed by the hoster: send them this config (also written to ${path.join(dir, snippet!)}):`);
  });

  it("a code change costs three exchanges with the host: read, build and switch (the changed files, the seed of the rest, shared links, import check, the switch), record", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n", "lib/util.py": "u = 1\n", "static/site.css": "a {}\n" }));
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n", "lib/util.py": "u = 1\n", "static/site.css": "a {}\n" }));
    // The Apache config is read with the release state; the entry point and manifest travel with the changed file.
    expect(world.session.steps).toEqual(["read current release", "upload app", "record unit and prune"]);
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/unit\] upload app \(1 file uploaded, 0 removed, release [0-9a-f]{16}\) \d+\.\ds$/));
    // The switch rode at the end of the build's exchange, and still says so on its own line, after the build's.
    const switched = world.lines.findIndex((l) => /^\[t\/unit\] switch release \(public -> [0-9a-f]{16}\) \d+\.\ds$/.test(l));
    expect(switched).toBeGreaterThan(world.lines.findIndex((l) => l.includes("import check")));
    expect(fs.readFileSync(path.join(world.home, "public/app.py"), "utf8")).toBe("app = 2\n");
    expect(fs.readFileSync(path.join(world.home, "public/lib/util.py"), "utf8")).toBe("u = 1\n");
    expect(fs.existsSync(path.join(world.home, "public/wwwshare.wsgi"))).toBe(true);
  });

  it("database.yml and secret files are compared in the release state's read: unchanged, they cost no exchange; changed, they are written 0600", async () => {
    const secret = path.join(world.project, "api-key");
    fs.writeFileSync(secret, "key-1\n");
    const yml = path.join(world.project, "database.yml");
    fs.writeFileSync(yml, "production:\n  adapter: sqlite3\n");
    const withSecrets = (files: Record<string, string>) => ({
      ...appSpec(files),
      databaseYml: { path: "private/database.yml", file: yml, digest: databaseYmlDigest("t/app", fs.readFileSync(yml, "utf8")) },
      secretFiles: [{ path: "private/secrets/api-key", file: secret, digest: secretDigest("t/app", "secretFiles private/secrets/api-key", fs.readFileSync(secret, "utf8")) }],
    });
    await deployApp(world.ctx, withSecrets({ "app.py": "app = 1\n" }));
    expect(fs.statSync(path.join(world.home, "private/database.yml")).mode & 0o777).toBe(0o600);
    expect(read("private/secrets/api-key")).toBe("key-1\n");
    world.session.steps.length = 0;
    await deployApp(world.ctx, withSecrets({ "app.py": "app = 2\n" }));
    expect(world.session.steps).toEqual(["read current release", "upload app", "record unit and prune"]);
    fs.writeFileSync(secret, "key-2\n");
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployApp(world.ctx, withSecrets({ "app.py": "app = 3\n" }));
    // A changed secret rides with the release's upload: no exchange of its own.
    expect(world.session.steps).toEqual(["read current release", "upload app", "record unit and prune"]);
    expect(world.lines).toContainEqual("[t/unit] install secrets (1 file: private/secrets/api-key, mode 0600)");
    expect(read("private/secrets/api-key")).toBe("key-2\n");
    // The same release again with another secret: the write and the switch, in one exchange.
    fs.writeFileSync(secret, "key-3\n");
    world.session.steps.length = 0;
    await deployApp(world.ctx, withSecrets({ "app.py": "app = 3\n" }));
    expect(world.session.steps).toEqual(["read current release", "install secrets", "record unit and prune"]);
    expect(read("private/secrets/api-key")).toBe("key-3\n");
    expect(fs.statSync(path.join(world.home, "private/secrets/api-key")).mode & 0o777).toBe(0o600);
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

describe("apps of one host build at once (host/locking-session.ts)", () => {
  it("an app whose release command still runs holds no host lock: another app of the host deploys meanwhile; each switches under it", async () => {
    // Each unit as provision runs it: its own session, its unit lock, the host lock carried by its commands.
    const unitContext = (unit: string, ownDir: string): { ctx: StepContext; lock: ReturnType<typeof hostLock> } => {
      const session = new LocalShellSession(world.home);
      const base: StepContext = { ...world.ctx, session, place: { unit, target: session.target } };
      const lock = hostLock(base, hostSpec(), [ownDir]);
      const locked = new LockingSession(session, lock);
      return { ctx: { ...base, session: locked, withoutHostLock: locked.withoutHostLock, lockRelease: lock.inline }, lock };
    };
    const started = path.join(world.home, "migration-started");
    const go = path.join(world.home, "migration-go");
    const slow = { ...appSpec({ "app.py": "app = 1\n" }), releaseCommands: [["sh", "-c", `touch ${started}; while [ ! -e ${go} ]; do sleep 0.05; done`]] };
    const site2 = await fakeSite(world.home, { app: "public2", venv: "private/venv", mount: "/app" });
    try {
      const fast = appSpec({ "app.py": "app = 2\n" }, hostSpec(), {}, {}, { unit: "t/app2", dir: "public2", site: () => site2 });
      const a = unitContext("t/app", slow.releasesDir);
      const b = unitContext("t/app2", fast.releasesDir);
      const slowDeploy = deployApp(a.ctx, slow).finally(() => a.lock.release());
      while (!fs.existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 20));
      // Before, this waited for the host lock until the migration ended (here: never).
      const fastDone = deployApp(b.ctx, fast).finally(() => b.lock.release()).then(() => "deployed");
      expect(await Promise.race([fastDone, new Promise((resolve) => setTimeout(() => resolve("still waiting after 20 s"), 20_000))])).toBe("deployed");
      expect(fs.existsSync(path.join(world.home, "public"))).toBe(false); // the slow app has not switched yet
      fs.writeFileSync(go, "");
      await slowDeploy;
      expect(read("public/app.py")).toBe("app = 1\n");
      expect(read("public2/app.py")).toBe("app = 2\n");
      expect(fs.existsSync(path.join(world.home, ".webshare/lock"))).toBe(false);
    } finally {
      fs.writeFileSync(go, "");
      await site2.close();
    }
  }, 60_000);
});

/** A session whose exchanges with files run `then` between their first part (`before`) and the rest. */
class AfterBefore extends ForwardingSession {
  constructor(inner: RemoteSession, private readonly then: () => Promise<void>) {
    super(inner);
  }
  async runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    const { before, ...rest } = request;
    if (before === undefined) return this.inner.runWithFiles(place, step, request);
    await this.inner.run(place, step, before);
    await this.then();
    return this.inner.runWithFiles(place, step, rest);
  }
}

describe("the switch rides at the end of the build's exchange, behind the host lock's try", () => {
  /** A unit as provision runs it: its own session, its unit lock, the host lock carried by its commands. */
  const unitContext = (unit: string, ownDir: string, duringBuild?: () => Promise<void>) => {
    const session = new LocalShellSession(world.home);
    const inner = duringBuild === undefined ? session : new AfterBefore(session, duringBuild);
    const base: StepContext = { ...world.ctx, session: inner, place: { unit, target: session.target } };
    const lock = hostLock(base, hostSpec(), [ownDir]);
    const locked = new LockingSession(inner, lock);
    const ctx: StepContext = { ...base, session: locked, withoutHostLock: locked.withoutHostLock, retakeHostLock: locked.retakeWith, lockRelease: lock.inline };
    return { ctx, lock, session };
  };

  it("a code change under the unit's locks: three exchanges (read, build and switch, record), and the last releases the locks", async () => {
    const first = appSpec({ "app.py": "app = 1\n" });
    const a = unitContext("t/app", first.releasesDir);
    await deployApp(a.ctx, first).finally(() => a.lock.release());
    const b = unitContext("t/app", first.releasesDir);
    await deployApp(b.ctx, appSpec({ "app.py": "app = 2\n" })).finally(() => b.lock.release());
    expect(b.session.steps).toEqual(["take host lock", "upload app", "record unit and prune"]);
    expect(read("public/app.py")).toBe("app = 2\n");
    expect(fs.readdirSync(path.join(world.home, ".webshare")).filter((n) => n.startsWith("lock"))).toEqual([]);
  });

  it("an answer lost after the host ran the build and the switch: the failed deploy's cleanup leaves the release it switched in", async () => {
    const first = appSpec({ "app.py": "app = 1\n" });
    await deployApp(world.ctx, first);
    // The host ran the whole exchange, then the answer was lost (an agent killed on the host: the connection stays).
    class LostAnswer extends ForwardingSession {
      async runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
        await this.inner.runWithFiles(place, step, request);
        throw errors.connectionLost(place, step);
      }
    }
    const ctx: StepContext = { ...world.ctx, session: new LostAnswer(world.session) };
    const message = await failure(deployApp(ctx, appSpec({ "app.py": "app = 2\n" })));
    expect(message).toContain('"upload app"');
    expect(world.session.steps).toContain("clean up failed upload");
    // The link names the new release, and it is still there: nothing serves a removed dir.
    expect(read("public/app.py")).toBe("app = 2\n");
  });

  it("a build that failed with an answer leaves no cancel mark; one whose answer was cut off leaves it for the try it may have left running", async () => {
    const first = appSpec({ "app.py": "app = 1\n" });
    const a = unitContext("t/app", first.releasesDir);
    await deployApp(a.ctx, first).finally(() => a.lock.release());
    const marks = () => fs.readdirSync(path.join(world.home, ".webshare")).filter((n) => n.startsWith("lock"));
    const failed = unitContext("t/app", first.releasesDir, async () => {
      throw new Error("the host answered: no space left on device");
    });
    expect(await failure(deployApp(failed.ctx, appSpec({ "app.py": "app = 2\n" })).finally(() => failed.lock.release()))).toContain("no space left");
    expect(marks()).toEqual([]);
    const cut = unitContext("t/app", first.releasesDir, async () => {
      throw errors.connectionLost({ unit: "t/app", target: "tester@middle-tier" }, "upload app");
    });
    const message = await failure(deployApp(cut.ctx, appSpec({ "app.py": "app = 3\n" })).finally(() => cut.lock.release()));
    expect(message).toContain("the live site is unchanged unless the switch that ends a build had already run on the host");
    expect(marks()).toEqual([expect.stringMatching(/^lock\.cancel-[0-9a-f]{16}$/)]);
    expect(read("public/app.py")).toBe("app = 1\n");
  });

  it("the host lock taken by another unit while the build ran: the switch waits for it, then runs on its own", async () => {
    const first = appSpec({ "app.py": "app = 1\n" });
    const a = unitContext("t/app", first.releasesDir);
    await deployApp(a.ctx, first).finally(() => a.lock.release());
    const before = live("public");
    const other = unitContext("t/other", "private/releases/other");
    // The build's exchange: its first part lets go of the host lock; the other unit takes it right then.
    const b = unitContext("t/app", first.releasesDir, async () => other.lock.acquire());
    const deploying = deployApp(b.ctx, appSpec({ "app.py": "app = 2\n" })).finally(() => b.lock.release());
    while (!world.lines.some((l) => l.includes("waiting for the host lock held by"))) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(live("public")).toBe(before); // built, not switched: the other unit holds the host lock
    await other.lock.release();
    await deploying;
    expect(live("public")).not.toBe(before);
    expect(read("public/app.py")).toBe("app = 2\n");
    expect(world.lines).toContainEqual(expect.stringMatching(/took the host lock after waiting/));
    expect(b.session.steps.at(-1)).toBe("record unit and prune");
    expect(world.lines.filter((l) => /switch release \(public -> /.test(l))).toHaveLength(2);
  }, 30_000);
});

describe("going back means going to the last verified version", () => {
  it("after an interrupted deploy left an unverified release live, a failed deploy goes back to the last verified one", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const verified = live("public");
    // An interrupted deploy: its release was switched in but never verified (no unit record).
    const unverified = appSpec({ "app.py": "app = 'unverified'\n" });
    world.site.broken = ({ release }) => release !== verified;
    await failure(deployApp(world.ctx, unverified));
    const stuck = fs.readdirSync(path.join(world.home, "private/releases/public")).find((d) => /^[0-9a-f]{16}$/.test(d) && d !== verified)!;
    fs.symlinkSync(`private/releases/public/${stuck}`, path.join(world.home, "public.tmp"));
    fs.renameSync(path.join(world.home, "public.tmp"), path.join(world.home, "public"));

    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "app = 3\n" })));
    expect(message).toContain(`switched back to the previous release ${verified}, which serves again (verified)`);
    expect(live("public")).toBe(verified);
  });

  it("says plainly when the version it went back to does not serve either", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const first = live("public");
    world.site.broken = () => true;
    const message = await failure(deployApp(world.ctx, appSpec({ "app.py": "app = 2\n" })));
    expect(message).toContain(`switched back to the previous release ${first}, but it does not serve either: HTTP 500`);
    // Managed mode: the deploy user's own daemon processes were restarted once before that verdict.
    expect(world.session.steps).toContain("restart daemon processes");
  });

  it("an interrupt between the switch and the end of verify leaves the switch back registered for the interrupt handler", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const verified = live("public");
    const registered = new Map<string, string>();
    const ctx = { ...world.ctx, abortScripts: registered };
    let seen: [string, string] | undefined;
    world.site.onRequest = () => (seen ??= [...registered.entries()][0]);
    await deployApp(ctx, appSpec({ "app.py": "app = 2\n" }));
    expect(registered.size).toBe(0);
    expect(seen![1]).toMatch(new RegExp(`^interrupted before release [0-9a-f]{16} was verified: switching back to ${verified}, the last verified release if it was switched in$`));
    // What the interrupt handler runs over a fresh connection: the new release goes, the verified one serves.
    await world.session.run(world.ctx.place, "abort", seen![0]);
    expect(live("public")).toBe(verified);
    // The switch rides in the build's exchange, so an interrupt may come before it ran: then
    // the switch back does nothing, and no daemon restarts (the entry point is not touched).
    const entryPoint = path.join(world.home, "public/wwwshare.wsgi");
    fs.utimesSync(entryPoint, new Date(1_000_000), new Date(1_000_000));
    await world.session.run(world.ctx.place, "abort", seen![0]);
    expect(live("public")).toBe(verified);
    expect(fs.statSync(entryPoint).mtimeMs).toBe(1_000_000);
  });
});

describe("privacy on a shared host", () => {
  const mode = (file: string) => fs.statSync(path.join(world.home, file)).mode & 0o777;

  it("release and private dirs are 0711, app files keep only owner bits, static files are world-readable", async () => {
    await deployVenvSeeded(world.ctx, venvSpec("1.0.0"));
    const spec = appSpec({ "app.py": "app = 1\n", "run.sh": "#!/bin/sh\n", "secret.cfg": "k = v\n", "static/site.css": "body {}\n" }, hostSpec(), { "/static": "static" }, { "run.sh": 0o755, "secret.cfg": 0o600 });
    await deployApp(world.ctx, spec);
    const release = path.relative(world.home, fs.realpathSync(path.join(world.home, "public")));
    expect([mode("private"), mode("private/releases"), mode("private/releases/public"), mode(release), mode(`${release}/static`)]).toEqual([0o711, 0o711, 0o711, 0o711, 0o711]);
    expect([mode(`${release}/app.py`), mode(`${release}/run.sh`), mode(`${release}/secret.cfg`), mode(`${release}/wwwshare.wsgi`), mode(`${release}/.webshare-manifest.json`)]).toEqual([0o600, 0o700, 0o600, 0o600, 0o600]);
    expect(mode(`${release}/static/site.css`)).toBe(0o644);
    // The venv side: its dir is the user's alone, the freeze and requirements copies too.
    expect([mode(VENVS), mode("private/venvs"), mode("private/freeze.txt"), mode("private/requirements.txt")]).toEqual([0o700, 0o711, 0o600, 0o600]);
    // Files copied from an earlier release with looser modes are tightened too.
    fs.chmodSync(path.join(world.home, release, "secret.cfg"), 0o644);
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n", "run.sh": "#!/bin/sh\n", "secret.cfg": "k = v\n", "static/site.css": "body {}\n" }, hostSpec(), { "/static": "static" }, { "run.sh": 0o755 }));
    const second = path.relative(world.home, fs.realpathSync(path.join(world.home, "public")));
    expect(second).not.toBe(release);
    expect(mode(`${second}/secret.cfg`)).toBe(0o600);
  });

  it("an app whose daemon runs as another user keeps its code readable to it (0755/0644)", async () => {
    const spec = appSpec({ "app.py": "app = 1\n" });
    const shared = { ...spec, daemon: { ...spec.daemon, user: "www-data" } };
    const rendered = { unit: shared.unit, host: shared.host, appDir: shared.appDir, entryPoint: shared.entryPoint, module: shared.module, callable: shared.callable, mount: shared.mount, staticDirs: shared.staticDirs, daemon: shared.daemon, environment: shared.environment, venvPath: shared.venvPath };
    await deployApp(world.ctx, { ...shared, ...renderedHashes(rendered) });
    const release = path.relative(world.home, fs.realpathSync(path.join(world.home, "public")));
    expect([mode(release), mode(`${release}/app.py`)]).toEqual([0o755, 0o644]);
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
    expect(message).toContain(`switched back to the previous release ${second}, which serves again (verified)`);
    expect(live("public")).toBe(second);
  });
});

describe("a checkout behind what the host serves (lib/checkout.ts)", () => {
  // Stand-ins for git: "new" contains "old", "old" does not contain "new".
  const history: Record<string, string[]> = { ["0".repeat(39) + "1"]: ["0".repeat(39) + "1"], ["0".repeat(39) + "2"]: ["0".repeat(39) + "1", "0".repeat(39) + "2"] };
  const at = (commit: string) => ({ commit, contains: (c: string) => history[commit]!.includes(c) });
  const [older, newer] = Object.keys(history) as [string, string];
  const record = () => JSON.parse(fs.readFileSync(fs.readdirSync(path.join(world.home, ".webshare/units")).map((f) => path.join(world.home, ".webshare/units", f))[0]!, "utf8"));

  it("records the commit; a deploy from an older checkout is refused before anything changes, naming both commits", async () => {
    await deployApp({ ...world.ctx, checkout: at(newer) }, appSpec({ "app.py": "app = 'new'\n" }));
    const serving = live("public");
    expect(record().commit).toBe(newer);
    world.session.steps.length = 0;
    const message = await failure(deployApp({ ...world.ctx, checkout: at(older) }, appSpec({ "app.py": "app = 'old'\n" })));
    expect(message).toContain(`t/unit on tester@middle-tier: refusing to replace the live release: it serves code deployed from commit ${newer.slice(0, 12)} on `);
    expect(message).toContain(`which this checkout (at ${older.slice(0, 12)}) does not contain: the checkout is behind or has diverged`);
    expect(message).toContain("nothing was changed on the host");
    expect(message).toContain("WEBSHARE_ALLOW_OLDER_CHECKOUT=1");
    expect(world.session.steps).toEqual(["read current release"]);
    expect(live("public")).toBe(serving);
    expect(record().commit).toBe(newer);
  });

  it("goes ahead from a newer checkout, with no commit recorded, outside git, or when allowed on purpose", async () => {
    await deployApp({ ...world.ctx, checkout: at(older) }, appSpec({ "app.py": "app = 1\n" }));
    await deployApp({ ...world.ctx, checkout: at(newer) }, appSpec({ "app.py": "app = 2\n" }));
    expect(record().commit).toBe(newer);
    await deployApp({ ...world.ctx, checkout: at(older), env: { WEBSHARE_ALLOW_OLDER_CHECKOUT: "1" } }, appSpec({ "app.py": "app = 3\n" }));
    expect(record().commit).toBe(older);
    await deployApp(world.ctx, appSpec({ "app.py": "app = 4\n" }));
    expect(record().commit).toBeUndefined();
  });

  it("a venv from an older checkout is refused too (before any build)", async () => {
    await deployVenvSeeded({ ...world.ctx, checkout: at(newer) }, venvSpec("1.0.0"));
    world.session.steps.length = 0;
    expect(await failure(deployVenv({ ...world.ctx, checkout: at(older) }, venvSpec("2.0.0")))).toContain("refusing to replace the live venv");
    expect(world.session.steps).not.toContain("create venv");
  });

  it("the same release again from an older checkout goes ahead and keeps the newer commit on record", async () => {
    const files = { "app.py": "app = 'same'\n" };
    await deployApp({ ...world.ctx, checkout: at(newer) }, appSpec(files));
    await deployApp({ ...world.ctx, checkout: at(older) }, appSpec(files));
    expect(record().commit).toBe(newer);
    expect(await failure(deployApp({ ...world.ctx, checkout: at(older) }, appSpec({ "app.py": "app = 'other'\n" })))).toContain("refusing to replace the live release");
  });
});

describe("releases cannot be edited through each other", () => {
  const RELEASES = "private/releases/public";
  const sh = (script: string) => world.session.run(world.ctx.place, "hand edit", script);
  const driftOf = async (spec: AppUnitSpec): Promise<AppDrift> => {
    const observed = await probeHost(world.session, world.ctx.place, "/usr/bin/python3", { venvs: [], apps: [{ id: "a", ...appPaths(spec) }] });
    return compareApp(spec, observed.apps["a"]!, { stack: "t", target: world.session.target });
  };
  const fix = (spec: AppUnitSpec, drift: AppDrift) => fixHost(world.session, world.session.target, [{ unit: { stack: "t", address: "terraform_data.app", spec }, drift }], (l) => world.lines.push(l), {});

  it("a hand edit of the live release (in place, or by replacing the file) changes no kept release and is not carried into the next one; rollback serves what was deployed", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n", "views.py": "v = 1\n" }));
    const first = live("public");
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n", "views.py": "v = 1\n" }));
    const second = live("public");
    expect(fs.statSync(path.join(world.home, RELEASES, second, "views.py")).ino).not.toBe(fs.statSync(path.join(world.home, RELEASES, first, "views.py")).ino);

    // In place (what `printf >>` and vim with a hard-linked file do), and replaced (sed -i).
    await sh("printf 'HOTFIX = 1\\n' >> public/views.py && sed -i 's/2/3/' public/app.py");
    expect(read(`${RELEASES}/${second}/views.py`)).toBe("v = 1\nHOTFIX = 1\n");
    expect(read(`${RELEASES}/${first}/views.py`)).toBe("v = 1\n");

    const third = appSpec({ "app.py": "app = 2\n", "views.py": "v = 1\n", "new.py": "n = 1\n" });
    world.lines.length = 0;
    await deployApp(world.ctx, third);
    const thirdId = live("public");
    expect(world.lines).toContainEqual(`[t/unit] note: the live release ${second} differs on the host from what was deployed (app.py, views.py): the new release gets the deployed content, and ${second} keeps the edits (webshare drift names it)`);
    expect([read("public/app.py"), read("public/views.py")]).toEqual(["app = 2\n", "v = 1\n"]);

    // drift: the live release is in sync, the edited kept one is named with its files.
    const drift = await driftOf(third);
    expect(drift.files).toEqual([]);
    expect(drift.fix).toBe("restore-kept-releases");
    expect(drift.kept!.find((k) => k.id === second)!.files.map((f) => [f.path, f.problem])).toEqual([["app.py", "changed"], ["views.py", "changed"]]);
    const text = renderCheckText({ units: [drift], failures: [], hosts: 1, seconds: 0 });
    expect(text).toContain(`  kept release ${second}: EDITED on the host since it was deployed (2 files differ from its manifest)\n    app.py: content changed on the host\n    views.py: content changed on the host\n    fix: restore it (2 files copied from releases on the host, 0 removed)`);

    // rollback goes to the edited release, restored from the live one's copies first.
    world.lines.length = 0;
    expect(await rollback(world.ctx, third)).toEqual({ from: thirdId, to: second, switched: true });
    expect(live("public")).toBe(second);
    expect([read("public/app.py"), read("public/views.py")]).toEqual(["app = 2\n", "v = 1\n"]);
    expect(world.lines.find((l) => l.includes(`check release ${second}`))).toContain("(edited on the host since it was deployed: app.py changed, views.py changed; restored: 2 copied back from releases on the host, 0 removed)");
    expect((await driftOf(third)).kept!.every((k) => k.files.length === 0)).toBe(true);
  });

  it("a file the seed cannot copy with its deployed content (edited live, gone from the store) is uploaded in a second exchange", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n", "views.py": "v = 1\n" }));
    await sh(`printf 'HOTFIX = 1\\n' >> public/views.py && rm -r ${RELEASES}/.objects`);
    world.session.steps.length = 0;
    world.lines.length = 0;
    await deployApp(world.ctx, appSpec({ "app.py": "app = 2\n", "views.py": "v = 1\n" }));
    expect(world.session.steps).toEqual(["read current release", "upload app", "upload app", "switch release", "record unit and prune"]);
    expect([read("public/app.py"), read("public/views.py")]).toEqual(["app = 2\n", "v = 1\n"]);
    expect(world.lines).toContainEqual(expect.stringMatching(/^\[t\/unit\] upload app \(2 files uploaded, 0 removed, release [0-9a-f]{16}\) \d+\.\ds$/));
    expect(world.lines).toContainEqual(expect.stringContaining("differs on the host from what was deployed (views.py)"));
  });

  it("drift --fix restores an edited kept release from the host's files, and removes files that were not deployed", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n", "views.py": "v = 1\n" }));
    const first = live("public");
    const spec = appSpec({ "app.py": "app = 2\n", "views.py": "v = 1\n" });
    await deployApp(world.ctx, spec);
    await sh(`printf 'x\\n' >> ${RELEASES}/${first}/views.py && printf 'y\\n' > ${RELEASES}/${first}/extra.py`);
    const drift = await driftOf(spec);
    expect(drift.drifted).toBe(true);
    expect(await fix(spec, drift)).toEqual([{ unit: "t/app", target: world.session.target, action: "restore-kept-releases", ok: true }]);
    expect(read(`${RELEASES}/${first}/views.py`)).toBe("v = 1\n");
    expect(fs.existsSync(path.join(world.home, RELEASES, first, "extra.py"))).toBe(false);
    expect((await driftOf(spec)).drifted).toBe(false);
  });

  it("the object store keeps what a hand edit replaced: rollback restores a kept release whose files no other release holds, with their modes", async () => {
    const statics = { "/static": "static" };
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n", "static/site.css": "a {}\n" }, hostSpec(), statics));
    const first = live("public");
    const spec = appSpec({ "app.py": "app = 2\n", "static/site.css": "b {}\n" }, hostSpec(), statics);
    await deployApp(world.ctx, spec);
    await sh(`sed -i 's/1/7/' ${RELEASES}/${first}/app.py && rm ${RELEASES}/${first}/static/site.css`);
    expect(fs.statSync(path.join(world.home, RELEASES, ".objects")).mode & 0o777).toBe(0o700);
    expect(await rollback(world.ctx, spec)).toMatchObject({ to: first, switched: true });
    expect([read("public/app.py"), read("public/static/site.css")]).toEqual(["app = 1\n", "a {}\n"]);
    // The store's copies are 0400; the restored release has a release's modes (static: readable by Apache's workers).
    expect([fs.statSync(path.join(world.home, "public/app.py")).mode & 0o777, fs.statSync(path.join(world.home, "public/static/site.css")).mode & 0o777]).toEqual([0o600, 0o644]);
  });

  it("rollback refuses a kept release whose deployed content is gone from the host; drift --fix says it cannot restore it and retires it", async () => {
    await deployApp(world.ctx, appSpec({ "app.py": "app = 1\n" }));
    const first = live("public");
    const spec = appSpec({ "app.py": "app = 2\n" });
    await deployApp(world.ctx, spec);
    const second = live("public");
    // Its app.py is in no other release; the object store's copy goes too.
    await sh(`rm -r ${RELEASES}/.objects && printf 'edited = 1\\n' >> ${RELEASES}/${first}/app.py`);
    const message = await failure(rollback(world.ctx, spec));
    expect(message).toContain(`t/unit on tester@middle-tier: release ${first} was edited on the host since it was deployed (app.py changed), and it cannot be restored: no release on the host holds the deployed content of app.py any more; refusing to switch to an edited release, nothing was changed`);
    expect(live("public")).toBe(second);

    const drift = await driftOf(spec);
    expect(drift.kept!.find((k) => k.id === first)!.restore.unavailable).toEqual(["app.py"]);
    const [outcome] = await fix(spec, drift);
    expect(outcome).toMatchObject({ ok: false, action: "restore-kept-releases" });
    expect(outcome!.message).toContain(`cannot restore kept release ${first} (app.py): no release on the host holds that deployed content any more; retired (rollback no longer offers it)`);
    expect(fs.existsSync(path.join(world.home, RELEASES, first, ".webshare-ready"))).toBe(false);
    expect((await driftOf(spec)).drifted).toBe(false);
    expect(await failure(rollback(world.ctx, spec))).toContain("there is no previous release to roll back to");
  });
});
