import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Two copies of the compiled package in one process (as when a library that depends on
 * webshare-cdktf brings its own copy): objects of one copy are accepted by the other, because
 * the classes check a `Symbol.for` brand, not `instanceof`. Copy A is this build's dist/, copy B
 * the package's files copied elsewhere, sharing the same cdktf and constructs (as npm dedupes them).
 */
const DIST = path.resolve(__dirname, "../..");
const REPO = path.resolve(DIST, "..");
let copy: string;

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-two-copies-"));
  for (const part of ["index.js", "constructs", "lib"]) fs.cpSync(path.join(DIST, part), path.join(copy, "dist", part), { recursive: true });
  fs.symlinkSync(fs.realpathSync(path.join(REPO, "node_modules")), path.join(copy, "node_modules"), "dir");
});
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

function runWithBothCopies(body: string): Record<string, unknown> {
  const script = `
    const { App, TerraformStack, Testing } = require(${JSON.stringify(require.resolve("cdktf"))});
    const a = require(${JSON.stringify(path.join(DIST, "index.js"))});
    const b = require(${JSON.stringify(path.join(copy, "dist", "index.js"))});
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const hostProps = { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43) };
    const out = {};
    ${body}
    process.stdout.write(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ["-e", script], { cwd: REPO, encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

test("the two copies are different classes, so instanceof alone would reject the other copy's objects", () => {
  const out = runWithBothCopies(`
    const venvB = new b.Venv(stack, "venv", { host: new b.WebshareHost(stack, "host", { ...hostProps, apache: b.ApacheMode.managed() }), requirements: "test/fixtures/apps/blog/requirements.txt" });
    out.sameClass = a.Venv === b.Venv;
    out.instanceOfA = venvB instanceof a.Venv;
    out.isVenvA = a.Venv.isVenv(venvB);`);
  expect(out).toEqual({ sameClass: false, instanceOfA: false, isVenvA: true });
});

test("a WsgiApp of copy A takes a Venv and WebshareHost of copy B (with B's ApacheMode), and synthesizes", () => {
  const out = runWithBothCopies(`
    const host = new b.WebshareHost(stack, "host", { ...hostProps, apache: b.ApacheMode.managed() });
    const venv = new b.Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
    const app = new a.WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", mount: "/blog" });
    const hostA = new a.WebshareHost(stack, "host-a", { ...hostProps, host: "10.0.0.2", apache: b.ApacheMode.selfManaged({ confDir: "/etc/apache2/webshare", testCommand: ["apache2ctl", "configtest"], reloadCommand: ["apache2ctl", "graceful"] }) });
    const inputs = Object.values(JSON.parse(Testing.synth(stack)).resource.terraform_data).map((r) => r.input).filter((i) => i && i.kind);
    const appUnit = inputs.find((i) => i.kind === "app");
    out.isWsgiAppB = b.WsgiApp.isWsgiApp(app);
    out.isHostA = a.WebshareHost.isWebshareHost(host);
    out.appVenvPath = appUnit.venvPath;
    out.venvApps = inputs.find((i) => i.kind === "venv").apps.map((x) => x.entryPoint);
    out.hostAApache = hostA.spec.apache.mode;`);
  expect(out).toEqual({ isWsgiAppB: true, isHostA: true, appVenvPath: "private/venv", venvApps: ["public/wwwshare.wsgi"], hostAApache: "self" });
});

test("look-alikes without the brand are still rejected, with the usual message", () => {
  const out = runWithBothCopies(`
    const host = new b.WebshareHost(stack, "host", { ...hostProps, apache: b.ApacheMode.managed() });
    const fakeVenv = { host, path: "private/venv", localFiles: [] };
    try { new a.WsgiApp(stack, "blog", { host, venv: fakeVenv, source: "test/fixtures/apps/blog", entry: "app:app" }); } catch (e) { out.venv = e.message; }
    try { new a.WebshareHost(stack, "h2", { ...hostProps, apache: { spec: { mode: "managed" }, mode: "managed" } }); } catch (e) { out.apache = e.message; }`);
  expect(out.venv).toMatch(/- venv .* must be a Venv$/);
  expect(out.apache).toContain("must be ApacheMode.managed() or ApacheMode.selfManaged({...})");
});
