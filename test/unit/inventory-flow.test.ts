import * as fs from "node:fs";
import * as path from "node:path";
import type { AppUnitSpec, HostSpec, VenvUnitSpec } from "../../lib/spec";
import { removalSpecOf } from "../../lib/spec";
import { deployApp } from "../../lib/lifecycle/app";
import { writeUnitRecord } from "../../lib/lifecycle/venv";
import { pruneOrphans } from "../../lib/lifecycle/inventory";
import { unitLockDir } from "../../lib/lifecycle/host-lock";
import { InventorySpec, ownedBy } from "../../lib/inventory-spec";
import type { StepContext } from "../../lib/lifecycle/context";
import { unitRecordPath } from "../../lib/lifecycle/context";
import { Progress } from "../../lib/progress";
import { errorText } from "../../lib/errors";
import { hashTree } from "../../lib/local-files";
import { renderedHashes } from "../../lib/render/unit-files";
import { LocalShellSession, middleTierHost, tempHome } from "../support/local-shell-session";

/**
 * Middle tier for the host inventory: real deploys and the real prune scripts run by /bin/sh
 * on a temporary home. What a stack no longer declares goes (config first, self-managed:
 * configtest + reload), what it still declares or the tool did not write stays.
 */

let work: string;
let home: string;
let project: string;
let session: LocalShellSession;
let lines: string[];
let ctx: StepContext;

beforeAll(() => (work = tempHome("webshare-inventory")));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  home = fs.mkdtempSync(path.join(work, "home-"));
  project = fs.mkdtempSync(path.join(work, "project-"));
  session = new LocalShellSession(home);
  lines = [];
  ctx = { session, place: { unit: "t/host/inventory", target: session.target }, progress: new Progress("t/host/inventory", (l) => lines.push(l)), instance: "test", env: {} };
});

const exists = (relative: string) => fs.existsSync(path.join(home, relative)) || isLink(relative);
const isLink = (relative: string) => {
  try {
    return fs.lstatSync(path.join(home, relative)).isSymbolicLink();
  } catch {
    return false;
  }
};
const failure = (p: Promise<unknown>) => p.then(() => "no error", errorText);

function hostSpec(overrides: Partial<HostSpec> = {}): HostSpec {
  return middleTierHost(home, overrides);
}

/** A self-managed host whose config test and reload append to apache.log (the test can make the test fail). */
function selfHost(testExit = 0): HostSpec {
  const confDir = path.join(home, "sites");
  fs.mkdirSync(confDir, { recursive: true });
  const log = path.join(home, "apache.log");
  return hostSpec({
    apache: { mode: "self", confDir, testCommand: ["sh", "-c", `echo configtest >> '${log}'; exit ${testExit}`], reloadCommand: ["sh", "-c", `echo graceful >> '${log}'`] },
  });
}

function appSpec(unit: string, appDir: string, host: HostSpec): AppUnitSpec {
  const source = fs.mkdtempSync(path.join(project, "app-"));
  fs.writeFileSync(path.join(source, "app.py"), `app = ${JSON.stringify(unit)}\n`);
  const rendered = {
    unit,
    host,
    appDir,
    entryPoint: `${appDir}/wwwshare.wsgi`,
    module: "app",
    callable: "app",
    mount: `/${unit.split("/").pop()}`,
    staticDirs: {},
    daemon: { name: `webshare-${unit.replace("/", "-")}`, processes: 1, threads: 1 },
    environment: {},
    venvPath: "private/venv",
  };
  return { kind: "app", specVersion: 1, ...rendered, source, exclude: [], files: hashTree(source, []), releasesDir: `private/releases/${appDir.replace(/\//g, "-")}`, ...renderedHashes(rendered), keep: 2, importCheck: false };
}

function venvSpec(unit: string, venvPath: string, host: HostSpec): VenvUnitSpec {
  const dir = path.posix.dirname(venvPath);
  return {
    kind: "venv",
    specVersion: 1,
    unit,
    host,
    venvPath,
    venvsDir: `private/venvs/${venvPath.replace(/\//g, "-")}`,
    requirementsPath: `${dir}/requirements.txt`,
    freezePath: `${dir}/freeze.txt`,
    requirements: ["x"],
    installSha256: "0".repeat(64),
    source: { extraIndexUrls: [], noIndex: true },
    wheelhouseFiles: {},
    upgradePip: false,
    apps: [],
    keep: 2,
  };
}

/** What a venv deploy leaves (without building one): its venv dir, link, files and record. */
async function placeVenv(spec: VenvUnitSpec): Promise<void> {
  const id = "0123456789abcdef";
  fs.mkdirSync(path.join(home, spec.venvsDir, id, "bin"), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(path.join(home, spec.venvPath)), path.join(home, spec.venvsDir, id)), path.join(home, spec.venvPath));
  for (const f of [spec.requirementsPath, spec.freezePath]) fs.writeFileSync(path.join(home, f), "x==1\n");
  await writeUnitRecord(ctx, spec, id);
}

/** Two venv units placed on one host: t/a (kept by the tests) and t/b (dropped by them). */
async function twoVenvs(): Promise<{ host: HostSpec; kept: VenvUnitSpec; dropped: VenvUnitSpec }> {
  const host = hostSpec();
  const kept = venvSpec("t/a", "private/venv-a", host);
  const dropped = venvSpec("t/b", "private/venv-b", host);
  await placeVenv(kept);
  await placeVenv(dropped);
  return { host, kept, dropped };
}

function inventory(host: HostSpec, units: (AppUnitSpec | VenvUnitSpec)[]): InventorySpec {
  return { kind: "inventory", specVersion: 1, unit: "t/host/inventory", host, units: units.map((u) => ({ unit: u.unit, kind: u.kind, owns: ownedBy(removalSpecOf(u)) })) };
}

describe("inventory prune", () => {
  it("nothing to remove: one read without the lock, and the locked session is never used; an orphan: read again under the lock, then removed", async () => {
    const { host, kept, dropped } = await twoVenvs();
    const unlocked = new LocalShellSession(home);
    const neverUsed: StepContext = { ...ctx, session: { ...session, run: () => Promise.reject(new Error("the locked session was used")) } as unknown as LocalShellSession };
    expect(await pruneOrphans(neverUsed, inventory(host, [kept, dropped]), { unlocked })).toEqual([]);
    expect(unlocked.steps).toEqual(["read unit records"]);
    expect(lines).toContainEqual("[t/host/inventory] no orphaned units: the host has only the 2 units the stack declares");

    unlocked.steps.length = 0;
    session.steps.length = 0;
    expect((await pruneOrphans(ctx, inventory(host, [kept]), { unlocked })).map((o) => o.unit)).toEqual(["t/b"]);
    expect(unlocked.steps).toEqual(["read unit records"]);
    expect(session.steps).toEqual(["read unit records", "remove orphaned units"]);
    expect(exists(dropped.venvsDir)).toBe(false);
    expect(exists(kept.venvsDir)).toBe(true);
  });

  it("keeps an orphan a deploy is building into right now (it holds its lock) and removes it on a later run; the last venv takes the pip seed along", async () => {
    const { host, kept, dropped } = await twoVenvs();
    fs.mkdirSync(path.join(home, ".webshare/.pip-seed-0123456789abcdef/lib"), { recursive: true });
    // A deploy of t/b (a checkout that still has it) holds the lock of its venvs dir.
    const busy = unitLockDir(host, dropped.venvsDir);
    fs.mkdirSync(busy, { recursive: true });
    expect(await pruneOrphans(ctx, inventory(host, [kept]))).toEqual([]);
    expect(exists(dropped.venvsDir)).toBe(true);
    expect(lines).toContainEqual("[t/host/inventory] kept t/b (venv) for now: a deploy into its paths is running (it holds their lock); the next deploy removes it");

    fs.rmSync(busy, { recursive: true });
    expect((await pruneOrphans(ctx, inventory(host, [kept]))).map((o) => o.unit)).toEqual(["t/b"]);
    expect(exists(dropped.venvsDir)).toBe(false);
    // t/a is a venv still on the host: the seed stays; once no venv is left, it goes.
    expect(exists(".webshare/.pip-seed-0123456789abcdef")).toBe(true);
    expect((await pruneOrphans(ctx, inventory(host, []))).map((o) => o.unit)).toEqual(["t/a"]);
    expect(exists(".webshare/.pip-seed-0123456789abcdef")).toBe(false);
  });

  it("removes an app the stack dropped (link, releases, snippet, record) and keeps the declared one, database.yml and foreign files", async () => {
    const host = hostSpec();
    const kept = appSpec("t/a", "apps/a", host);
    const dropped = appSpec("t/b", "apps/b", host);
    fs.mkdirSync(path.join(home, "apps"), { recursive: true });
    await deployApp(ctx, kept);
    await deployApp(ctx, dropped);
    fs.mkdirSync(path.join(home, "private"), { recursive: true });
    fs.writeFileSync(path.join(home, "private/database.yml"), "secret: 1\n");
    fs.writeFileSync(path.join(home, "private/notes.txt"), "mine\n");
    expect(exists(".webshare/apache/webshare-t-b.conf")).toBe(true);

    const removed = await pruneOrphans(ctx, inventory(host, [kept]));
    expect(removed.map((o) => o.unit)).toEqual(["t/b"]);
    for (const gone of ["apps/b", "private/releases/apps-b", ".webshare/apache/webshare-t-b.conf", path.relative(home, unitRecordPath(host, "t/b"))]) expect([gone, exists(gone)]).toEqual([gone, false]);
    for (const stays of ["apps/a", "private/releases/apps-a", ".webshare/apache/webshare-t-a.conf", path.relative(home, unitRecordPath(host, "t/a")), "private/database.yml", "private/notes.txt"]) {
      expect([stays, exists(stays)]).toEqual([stays, true]);
    }
    expect(lines).toContainEqual(expect.stringMatching(/^\[t\/host\/inventory\] remove orphaned units \(t\/b \(app\)\)/));
    expect(lines).toContainEqual("[t/host/inventory] Apache is managed by the hoster: ask them to remove the config of t/b");

    session.steps.length = 0;
    expect(await pruneOrphans(ctx, inventory(host, [kept]))).toEqual([]);
    expect(session.steps).toEqual(["read unit records"]);
    expect(lines).toContainEqual("[t/host/inventory] no orphaned units: the host has only the 1 unit the stack declares");
  });

  it("self-managed rename that keeps appDir: only the old config and record go, after a configtest and a graceful reload", async () => {
    const host = selfHost();
    const before = appSpec("t/old", "public", host);
    const after = appSpec("t/new", "public", host);
    await deployApp(ctx, before);
    await deployApp(ctx, after);
    const live = fs.readlinkSync(path.join(home, "public"));
    expect(fs.readdirSync(path.join(home, "sites")).sort()).toEqual(["webshare-t-new.conf", "webshare-t-old.conf"]);
    fs.rmSync(path.join(home, "apache.log"), { force: true });

    await pruneOrphans(ctx, inventory(host, [after]));
    expect(fs.readdirSync(path.join(home, "sites"))).toEqual(["webshare-t-new.conf"]);
    expect(fs.readFileSync(path.join(home, "apache.log"), "utf8")).toBe("configtest\ngraceful\n");
    expect(fs.readlinkSync(path.join(home, "public"))).toBe(live);
    expect(exists(unitRecordPath(host, "t/old").slice(home.length + 1))).toBe(false);
    expect(lines).toContainEqual(expect.stringContaining("kept public of t/old (a unit of the stack uses it)"));
  });

  it("self-managed: a config test that fails once the configs are gone puts them back and removes nothing else", async () => {
    const okHost = selfHost();
    const dropped = appSpec("t/b", "apps/b", okHost);
    fs.mkdirSync(path.join(home, "apps"), { recursive: true });
    await deployApp(ctx, dropped);
    const config = fs.readFileSync(path.join(home, "sites/webshare-t-b.conf"), "utf8");

    const message = await failure(pruneOrphans(ctx, inventory(selfHost(1), [])));
    expect(message).toContain("Apache's config test failed once the configs of units the stack no longer declares were removed");
    expect(fs.readFileSync(path.join(home, "sites/webshare-t-b.conf"), "utf8")).toBe(config);
    expect(isLink("apps/b")).toBe(true);
    expect(exists(unitRecordPath(okHost, "t/b").slice(home.length + 1))).toBe(true);
  });

  it("removes a dropped venv's link, venvs, requirements and freeze, but not paths a declared venv uses", async () => {
    const host = hostSpec();
    const dropped = venvSpec("t/old-venv", "apps/old/venv", host);
    const renamed = venvSpec("t/venv-was", "private/venv", host);
    const declared = venvSpec("t/venv", "private/venv", host);
    fs.mkdirSync(path.join(home, "apps/old"), { recursive: true });
    fs.mkdirSync(path.join(home, "private"), { recursive: true });
    await placeVenv(dropped);
    await placeVenv(renamed);
    await writeUnitRecord(ctx, declared, "0123456789abcdef");

    await pruneOrphans(ctx, inventory(host, [declared]));
    for (const gone of ["apps/old/venv", "private/venvs/apps-old-venv", "apps/old/requirements.txt", "apps/old/freeze.txt"]) expect([gone, exists(gone)]).toEqual([gone, false]);
    for (const stays of ["private/venv", "private/venvs/private-venv/0123456789abcdef", "private/requirements.txt", "private/freeze.txt"]) expect([stays, exists(stays)]).toEqual([stays, true]);
    expect(fs.readdirSync(path.join(home, ".webshare/units"))).toEqual([path.basename(unitRecordPath(host, "t/venv"))]);
  });

  it("touches only records of this WebshareHost, and never a path outside what the tool may remove", async () => {
    const host = hostSpec();
    const units = path.join(home, ".webshare/units");
    const write = (unit: string, record: object) => {
      fs.mkdirSync(units, { recursive: true });
      fs.writeFileSync(unitRecordPath(host, unit), JSON.stringify({ unit, instance: "x", current: "y", deployedAt: "z", ...record }));
    };
    fs.mkdirSync(path.join(home, ".ssh"));
    fs.writeFileSync(path.join(home, ".ssh/authorized_keys"), "key\n");
    fs.mkdirSync(path.join(home, "other"));
    write("other/app", { kind: "app", host: "other/host", owns: { links: ["other"], contentDirs: [], files: [] } });
    write("t/evil", { kind: "app", host: "t/host", owns: { links: [], contentDirs: [".ssh", "../outside", "public/../.ssh"], files: [".bashrc"], apacheConfig: "/etc/passwd" } });
    write("t/legacy", { kind: "app" });
    write("u/legacy", { kind: "app" });
    fs.mkdirSync(path.join(home, ".webshare/apache"), { recursive: true });
    fs.writeFileSync(path.join(home, ".webshare/apache/webshare-t-legacy.conf"), "old\n");

    const removed = await pruneOrphans(ctx, inventory(host, []));
    expect(removed.map((o) => o.unit)).toEqual(["t/evil", "t/legacy"]);
    expect(fs.readFileSync(path.join(home, ".ssh/authorized_keys"), "utf8")).toBe("key\n");
    expect(exists("other")).toBe(true);
    expect(exists(".webshare/apache/webshare-t-legacy.conf")).toBe(false);
    expect(fs.readdirSync(units).sort()).toEqual([path.basename(unitRecordPath(host, "other/app")), path.basename(unitRecordPath(host, "u/legacy"))].sort());
    expect(lines).toContainEqual(expect.stringContaining("kept .ssh of t/evil (not a path the tool may remove)"));
    expect(lines).toContainEqual(expect.stringContaining("kept /etc/passwd of t/evil (not a config the tool writes on this host)"));
    expect(lines).toContainEqual(expect.stringContaining("note: t/legacy was recorded by an older webshare-cdktf"));
  });

  it("the cleanup (stack destroy) lists no unit, so every unit of the host goes", async () => {
    const host = selfHost();
    fs.mkdirSync(path.join(home, "apps"), { recursive: true });
    await deployApp(ctx, appSpec("t/a", "apps/a", host));
    await deployApp(ctx, appSpec("t/b", "apps/b", host));
    await pruneOrphans(ctx, inventory(host, []));
    expect(fs.readdirSync(path.join(home, "sites"))).toEqual([]);
    expect([isLink("apps/a"), isLink("apps/b"), exists("private/releases")]).toEqual([false, false, false]);
    expect(fs.readdirSync(path.join(home, ".webshare/units"))).toEqual([]);
  });
});
