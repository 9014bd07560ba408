import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AppUnitSpec } from "../../lib/spec";
import { sharedPathsScript } from "../../lib/lifecycle/shared-paths";
import { appEnvArgs } from "../../lib/lifecycle/stoppable";
import { commandLine } from "../../lib/shell";
import { renderEntryPoint } from "../../lib/render/entry-point";
import { readSecretEnvironment, readSecretFile } from "../../lib/secrets";
import { appSpec } from "./drift-fixtures";

/** The remote scripts of sharedPaths and the secret environment, run in a real /bin/sh on a temp home. */
const sh = (script: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
let home: string;
beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), "webshare it's $(x) "))));
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));
const mode = (p: string) => (fs.statSync(path.join(home, p)).mode & 0o777).toString(8);

function spec(over: Partial<AppUnitSpec> = {}): AppUnitSpec {
  return { ...appSpec, host: { ...appSpec.host, home, python: "python3" }, sharedPaths: { dir: "private/shared/public", paths: ["uploads", "data/db"] }, ...over };
}

describe("sharedPathsScript", () => {
  test("links each path of a release into the shared dir, which the next release sees, and keeps what was written", () => {
    const r1 = path.join(home, "private/releases/public/r1");
    const r2 = path.join(home, "private/releases/public/r2");
    fs.mkdirSync(r1, { recursive: true });
    fs.mkdirSync(r2, { recursive: true });
    sh(sharedPathsScript(spec(), r1));
    fs.writeFileSync(path.join(r1, "uploads/a.txt"), "from r1");
    fs.writeFileSync(path.join(r1, "data/db/app.sqlite3"), "db");
    // A seed from r1 (cp -a keeps links as links), and a real dir where a link belongs.
    fs.mkdirSync(path.join(r2, "data/db"), { recursive: true });
    fs.writeFileSync(path.join(r2, "data/db/stale"), "x");
    sh(sharedPathsScript(spec(), r2));
    expect(fs.readFileSync(path.join(r2, "uploads/a.txt"), "utf8")).toBe("from r1");
    expect(fs.readFileSync(path.join(r2, "data/db/app.sqlite3"), "utf8")).toBe("db");
    expect(fs.readlinkSync(path.join(r2, "uploads"))).toBe(path.join(home, "private/shared/public/uploads"));
    expect(fs.readdirSync(path.join(home, "private/shared/public/data/db")).sort()).toEqual(["app.sqlite3"]);
    // Again on the same release: nothing moves, nothing is lost.
    sh(sharedPathsScript(spec(), r2));
    expect(fs.readFileSync(path.join(r2, "uploads/a.txt"), "utf8")).toBe("from r1");
    // Removing a release (prune uses rmtree, which never follows links) leaves the data.
    execFileSync("python3", ["-c", "import shutil, sys; shutil.rmtree(sys.argv[1])", r1]);
    expect(fs.readFileSync(path.join(home, "private/shared/public/uploads/a.txt"), "utf8")).toBe("from r1");
  });

  test("modes: the shared dir 0700 for a private app; 0711 with 0755 paths when the daemon runs as another user", () => {
    const r = path.join(home, "r");
    fs.mkdirSync(r);
    sh(sharedPathsScript(spec(), r));
    expect([mode("private"), mode("private/shared"), mode("private/shared/public")]).toEqual(["711", "711", "700"]);
    sh(sharedPathsScript(spec({ daemon: { ...appSpec.daemon, user: "www-data" } }), r));
    expect([mode("private/shared/public"), mode("private/shared/public/uploads")]).toEqual(["711", "755"]);
  });
});

describe("secret environment", () => {
  test("commands get it from the 0600 file, never on their command line; the entry point loads the same file", () => {
    const file = path.join(home, "private/secrets/public.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const value = "it's $(nasty) \"quoted\"\nline";
    const read = readSecretEnvironment({ SECRET_KEY: "WEBSHARE_TEST_VALUE" }, { WEBSHARE_TEST_VALUE: value });
    fs.writeFileSync(file, read.text!, { mode: 0o600 });
    const s = spec({ environment: { MODE: "prod" }, secretEnvironment: { path: "private/secrets/public.json", fromEnv: { SECRET_KEY: "WEBSHARE_TEST_VALUE" }, digest: "d" } });
    const args = appEnvArgs(s);
    expect(args.join(" ")).not.toContain("nasty");
    const out = sh(commandLine([...args, "python3", "-c", "import os; print(os.environ['SECRET_KEY'] + '|' + os.environ['MODE'])"]));
    expect(out).toBe(`${value}|prod\n`);
    const entry = renderEntryPoint({ unit: "s/a", module: "m", callable: "app", environment: {}, secretEnvironmentFile: file });
    expect(entry).toContain(`with open(${JSON.stringify(file)}) as _webshare_secrets:`);
    expect(entry).not.toContain("nasty");
  });

  test("reading names the missing variables, never a value", () => {
    expect(readSecretEnvironment({ A: "WEBSHARE_X", B: "WEBSHARE_Y", C: "WEBSHARE_X" }, { WEBSHARE_Y: "v" })).toEqual({ problem: "needs environment variable WEBSHARE_X, which is not set" });
    expect(readSecretEnvironment({ B: "WEBSHARE_Y", A: "WEBSHARE_Y" }, { WEBSHARE_Y: "v" })).toEqual({ text: '{"A":"v","B":"v"}\n' });
    expect(readSecretFile({ fromEnv: "WEBSHARE_Z" }, {})).toEqual({ problem: "needs environment variable WEBSHARE_Z, which is not set" });
  });
});
