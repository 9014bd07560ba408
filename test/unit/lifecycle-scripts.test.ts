import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pruneScript, switchSymlinkScript, touchExistingScript } from "../../lib/lifecycle/switch";
import { carriedOver, parseSeedOutput, seedReleaseScript, storeObjectsScript } from "../../lib/lifecycle/release-seed";
import { sha256Hex } from "../../lib/hash";
import { removeIfEmpty, stdinToFileScript } from "../../lib/lifecycle/switch";
import { configReadScript, parseConfigRead } from "../../lib/lifecycle/app";
import { parseVenvRead } from "../../lib/lifecycle/venv";
import { pipScriptNames, readySeedsScript, removeSeedsScript, scriptHeader, SEED_BUILT, seededVenvScript } from "../../lib/lifecycle/pip-seed";
import { deployKey } from "../../constructs/unit-resource";
import { ApacheMode, Venv, WebshareHost } from "../../constructs";
import { App, TerraformStack, Testing } from "cdktf";
import type { UnitSpec } from "../../lib/spec";

/** The remote scripts are plain shell: run them in a real local /bin/sh on a temp tree. */
const sh = (script: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare it's $(x) "))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe("switchSymlinkScript", () => {
  test("points the link at the new target with a relative path, replacing the old link", () => {
    const link = path.join(root, "private/venv");
    fs.mkdirSync(path.join(root, "private/venvs/a"), { recursive: true });
    fs.mkdirSync(path.join(root, "private/venvs/b"), { recursive: true });
    sh(switchSymlinkScript(link, path.join(root, "private/venvs/a"), `${link}.aside`));
    expect(fs.readlinkSync(link)).toBe("venvs/a");
    sh(switchSymlinkScript(link, path.join(root, "private/venvs/b"), `${link}.aside`));
    expect(fs.readlinkSync(link)).toBe("venvs/b");
    expect(fs.readdirSync(path.join(root, "private")).sort()).toEqual(["venv", "venvs"]);
  });

  test("moves a real directory (the hoster's original venv) aside instead of deleting it", () => {
    const link = path.join(root, "public");
    fs.mkdirSync(link);
    fs.writeFileSync(path.join(link, "index.html"), "theirs");
    fs.mkdirSync(path.join(root, "releases/r1"), { recursive: true });
    sh(switchSymlinkScript(link, path.join(root, "releases/r1"), `${link}.before-webshare`));
    expect(fs.readlinkSync(link)).toBe("releases/r1");
    expect(fs.readFileSync(path.join(root, "public.before-webshare/index.html"), "utf8")).toBe("theirs");
  });
});

test("touchExistingScript touches and lists only files that exist", () => {
  const present = path.join(root, "a.wsgi");
  fs.writeFileSync(present, "");
  fs.utimesSync(present, new Date(0), new Date(0));
  const out = sh(touchExistingScript([present, path.join(root, "missing.wsgi")]));
  expect(out).toBe(`${present}\n`);
  expect(fs.statSync(present).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
});

test("pruneScript keeps the current and the `keep` most recent, and only removes 16-hex dirs", () => {
  const ids = ["0000000000000001", "0000000000000002", "0000000000000003", "0000000000000004"];
  for (const id of [...ids, "legacy-keep-me"]) fs.mkdirSync(path.join(root, id));
  const history = path.join(root, ".history");
  fs.writeFileSync(history, ids.slice(0, 3).join("\n") + "\n");
  const removed = sh(pruneScript("/usr/bin/python3", root, history, ids[3], 2));
  expect(removed).toBe(`${ids[0]}\n`);
  expect(fs.readdirSync(root).sort()).toEqual([".history", ...ids.slice(1), "legacy-keep-me"]);
  expect(fs.readFileSync(history, "utf8")).toBe(`${ids[1]}\n${ids[2]}\n${ids[3]}\n`);
});

describe("seedReleaseScript", () => {
  const shIn = (script: string, input: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8", input });

  test("carries over only files unchanged between the two manifests", () => {
    expect(carriedOver({ "a.py": "1", "b.py": "2", "gone.py": "3", "e.wsgi": "9" }, { "a.py": "1", "b.py": "22", "new.py": "4", "e.wsgi": "9" }, ["e.wsgi"])).toEqual({ "a.py": "1" });
  });

  test("copies files with their deployed content, from the store first, never as hard links; names the ones edited on the host", () => {
    const prev = path.join(root, "prev");
    const next = path.join(root, "next");
    const store = path.join(root, ".objects");
    fs.mkdirSync(path.join(prev, "pkg"), { recursive: true });
    fs.mkdirSync(next);
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(prev, "app.py"), "app = 1\n", { mode: 0o600 });
    fs.writeFileSync(path.join(prev, "pkg/run.sh"), "#!/bin/sh\n", { mode: 0o700 });
    fs.writeFileSync(path.join(prev, "views.py"), "v = 1\n# edited by hand\n");
    fs.writeFileSync(path.join(prev, "lost.py"), "l = 1\n# edited by hand\n");
    fs.writeFileSync(path.join(store, sha256Hex("v = 1\n")), "v = 1\n", { mode: 0o400 });
    fs.symlinkSync("app.py", path.join(prev, "linked.py"));
    const want = { "app.py": sha256Hex("app = 1\n"), "pkg/run.sh": sha256Hex("#!/bin/sh\n"), "views.py": sha256Hex("v = 1\n"), "lost.py": sha256Hex("l = 1\n"), "linked.py": sha256Hex("app = 1\n"), "gone.py": sha256Hex("x") };
    const seed = parseSeedOutput(shIn(seedReleaseScript("/usr/bin/python3", prev, next, store), JSON.stringify(want)));
    expect(seed).toEqual({ upload: ["gone.py", "linked.py", "lost.py"], edited: ["lost.py", "views.py"] });
    // The store held views.py's deployed content: the hand edit is not carried over.
    expect(fs.readFileSync(path.join(next, "views.py"), "utf8")).toBe("v = 1\n");
    expect(fs.readFileSync(path.join(next, "app.py"), "utf8")).toBe("app = 1\n");
    expect(fs.statSync(path.join(next, "app.py")).ino).not.toBe(fs.statSync(path.join(prev, "app.py")).ino);
    expect(fs.statSync(path.join(next, "app.py")).nlink).toBe(1);
    expect(fs.statSync(path.join(next, "pkg/run.sh")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(next, "app.py")).mtimeMs).toBe(fs.statSync(path.join(prev, "app.py")).mtimeMs);
    expect(fs.existsSync(path.join(next, "lost.py"))).toBe(false);
    // An in-place edit of the new release's file leaves the previous one as it was.
    fs.appendFileSync(path.join(next, "app.py"), "app = 2\n");
    expect(fs.readFileSync(path.join(prev, "app.py"), "utf8")).toBe("app = 1\n");
  });

  test("an answer that is not the seed's JSON is unreadable", () => {
    expect(parseSeedOutput("Welcome\n")).toBeUndefined();
    expect(parseSeedOutput('{"upload": [1], "edited": []}')).toBeUndefined();
    expect(parseSeedOutput('{"upload": [], "edited": []}\n')).toEqual({ upload: [], edited: [] });
  });

  test("the store gets a 0400 copy of each content of the serving release, and loses what no release names", () => {
    const releases = path.join(root, "releases");
    const a = path.join(releases, "aaaaaaaaaaaaaaaa");
    const b = path.join(releases, "bbbbbbbbbbbbbbbb");
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(b);
    const store = path.join(releases, ".objects");
    fs.writeFileSync(path.join(a, "app.py"), "app = 1\n");
    fs.writeFileSync(path.join(a, "edited.py"), "edited since\n");
    fs.writeFileSync(path.join(a, ".webshare-manifest.json"), JSON.stringify({ "app.py": sha256Hex("app = 1\n"), "edited.py": sha256Hex("e = 1\n") }));
    fs.writeFileSync(path.join(b, ".webshare-manifest.json"), JSON.stringify({ "old.py": sha256Hex("old\n") }));
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, sha256Hex("old\n")), "old\n");
    fs.writeFileSync(path.join(store, sha256Hex("unnamed\n")), "unnamed\n");
    expect(sh(storeObjectsScript("/usr/bin/python3", releases, "aaaaaaaaaaaaaaaa"))).toBe("1 1\n");
    expect(fs.readdirSync(store).sort()).toEqual([sha256Hex("app = 1\n"), sha256Hex("old\n")].sort());
    expect(fs.statSync(path.join(store, sha256Hex("app = 1\n"))).mode & 0o777).toBe(0o400);
    expect(fs.statSync(store).mode & 0o777).toBe(0o700);
  });
});

test("deployKey ignores connection settings, so re-keying a host does not redeploy", () => {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "h", user: "u", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43), apache: ApacheMode.managed() });
  new Venv(stack, "venv", { host, lock: "test/fixtures/apps/blog/requirements.lock" });
  const config = JSON.parse(Testing.synth(stack));
  const spec = Object.entries(config.resource.terraform_data as Record<string, { input: UnitSpec }>).find(([name]) => name.includes("_deploy_"))![1].input;
  const rekeyed = { ...spec, host: { ...spec.host, connection: { ...spec.host.connection, privateKeyPath: "other", port: 2200 } } };
  expect(deployKey(rekeyed)).toBe(deployKey(spec));
  expect(deployKey({ ...spec, packages: { "webshare-greeting": "2.0.0" } } as UnitSpec)).not.toBe(deployKey(spec));
});

describe("seededVenvScript (real local python3, in a dir named with a space, a quote and $(x))", () => {
  const python = "/usr/bin/python3";
  const version = execFileSync(python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { encoding: "utf8" }).trim();
  const scripts = pipScriptNames(version);
  const sitePackages = `lib/python${version.split(".").slice(0, 2).join(".")}/site-packages`;

  test("builds the seed once, then links pip into each new venv with working pip scripts", () => {
    const seed = path.join(root, ".pip-seed-x");
    expect(sh(seededVenvScript(python, seed, path.join(root, "v1"), scripts))).toBe(`${SEED_BUILT}\n`);
    expect(sh(seededVenvScript(python, seed, path.join(root, "v2"), scripts))).toBe("");
    const pipInit = (dir: string) => fs.statSync(path.join(root, dir, sitePackages, "pip/__init__.py"));
    expect(pipInit("v2").nlink).toBe(3);
    expect(pipInit("v2").ino).toBe(pipInit(".pip-seed-x").ino);
    for (const name of scripts) {
      const script = path.join(root, "v2/bin", name);
      // The path has whitespace, so the header is the /bin/sh form naming v2's own python.
      expect(fs.readFileSync(script, "utf8").startsWith(`${scriptHeader(path.join(root, "v2/bin/python"))}\n`)).toBe(true);
      expect(execFileSync(script, ["--version"], { encoding: "utf8" })).toContain(`from ${path.join(root, "v2", sitePackages, "pip")} `);
    }
  }, 60_000);

  test("the seed holds exactly what `python -m venv` installs (ensurepip's wheels, byte-compiled), built without ensurepip's pip run", () => {
    const seed = path.join(root, ".pip-seed-z");
    sh(seededVenvScript(python, seed, path.join(root, "v1"), scripts));
    execFileSync(python, ["-m", "venv", path.join(root, "reference")]);
    // (The reference's own bin/pip cannot run from this dir: venv's /bin/sh header leaves the path unquoted.)
    const tree = (dir: string) => execFileSync("find", [".", "-not", "-path", "./.webshare-ready"], { cwd: path.join(root, dir, sitePackages), encoding: "utf8" }).split("\n").sort();
    expect(tree(".pip-seed-z")).toEqual(tree("reference"));
    expect(tree(".pip-seed-z").filter((f) => f.endsWith(".pyc")).length).toBeGreaterThan(100);
    expect(execFileSync(path.join(root, "v1/bin/pip"), ["list", "--format=freeze"], { encoding: "utf8" })).toBe(execFileSync(path.join(root, "reference/bin/python"), ["-m", "pip", "list", "--format=freeze"], { encoding: "utf8" }));
  }, 60_000);

  test("a half-built seed (no ready mark) is replaced by one built aside and renamed in; no build dir is left", () => {
    const seed = path.join(root, ".pip-seed-y");
    fs.mkdirSync(path.join(seed, "lib"), { recursive: true });
    fs.writeFileSync(path.join(seed, "lib", "half-written"), "");
    expect(sh(seededVenvScript(python, seed, path.join(root, "v1"), scripts))).toBe(`${SEED_BUILT}\n`);
    expect(fs.existsSync(path.join(seed, "lib", "half-written"))).toBe(false);
    expect(fs.existsSync(path.join(seed, ".webshare-ready"))).toBe(true);
    expect(fs.readdirSync(root).filter((n) => n.includes(".build-"))).toEqual([]);
    expect(execFileSync(path.join(root, "v1/bin/pip"), ["--version"], { encoding: "utf8" })).toContain(path.join(root, "v1", sitePackages, "pip"));
  }, 60_000);
});

test("scriptHeader: a plain shebang for a plain path, the /bin/sh form otherwise", () => {
  expect(scriptHeader("/home/u/private/venvs/x/0123456789abcdef/bin/python")).toBe("#!/home/u/private/venvs/x/0123456789abcdef/bin/python");
  expect(scriptHeader("/home/u/my venvs/bin/python")).toBe(`#!/bin/sh\n'''exec' '/home/u/my venvs/bin/python' "$0" "$@"\n' '''`);
  expect(scriptHeader(`/${"a".repeat(130)}/bin/python`).startsWith("#!/bin/sh\n")).toBe(true);
});

describe("removeSeedsScript and readySeedsScript (dirs named with a space, a quote and $(x))", () => {
  test("the seeds go only when no record is a venv's and no unit lock is held but this run's own; ready seeds are listed by name", () => {
    const seeds = path.join(root, "state");
    const units = path.join(seeds, "units");
    const locks = path.join(seeds, "locks");
    const own = path.join(locks, "private-venvs-own-0123abcd");
    const other = path.join(locks, "public-releases-9876fedc");
    for (const d of [units, own, other, path.join(seeds, ".pip-seed-aaaa/lib"), path.join(seeds, ".pip-seed-bbbb")]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(seeds, ".pip-seed-aaaa/.webshare-ready"), "");
    fs.writeFileSync(path.join(units, "app.json"), JSON.stringify({ kind: "app" }, null, 2));
    const seedNames = () => fs.readdirSync(seeds).filter((n) => n.startsWith(".pip-seed-")).sort();
    expect(sh(readySeedsScript(seeds))).toBe(".pip-seed-aaaa\n"); // the one without its ready mark is being built
    // Another unit holds its lock (it may be creating a venv from the seed without the host lock).
    sh(removeSeedsScript(seeds, units, locks, [own]));
    expect(seedNames()).toEqual([".pip-seed-aaaa", ".pip-seed-bbbb"]);
    fs.rmdirSync(other);
    // A venv record left keeps them too.
    fs.writeFileSync(path.join(units, "venv.json"), JSON.stringify({ kind: "venv" }, null, 2));
    sh(removeSeedsScript(seeds, units, locks, [own]));
    expect(seedNames()).toHaveLength(2);
    fs.rmSync(path.join(units, "venv.json"));
    // Only this run's own lock, no venv record: they go.
    sh(removeSeedsScript(seeds, units, locks, [own]));
    expect(seedNames()).toEqual([]);
    expect(sh(readySeedsScript(seeds))).toBe("");
    expect(sh(readySeedsScript(path.join(root, "no such dir")))).toBe("");
  });
});

describe("removeIfEmpty", () => {
  test("removes an empty dir, keeps a non-empty one, and succeeds when there is none (a unit destroyed before it deployed)", () => {
    const empty = path.join(root, "empty");
    const full = path.join(root, "full");
    fs.mkdirSync(empty);
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, "database.yml"), "keep\n");
    sh(`${removeIfEmpty(empty)} && ${removeIfEmpty(full)} && ${removeIfEmpty(path.join(root, "never-made"))}`);
    expect(fs.existsSync(empty)).toBe(false);
    expect(fs.readdirSync(full)).toEqual(["database.yml"]);
  });
});

describe("configReadScript: the Apache config read in the same exchange as the release state", () => {
  test.each([
    ["text with our separators in it", "# a\n--\n--\nWSGIDaemonProcess x\n"],
    ["no trailing newline, multibyte", "# caf\u00e9 \u2603\n--"],
    ["empty", ""],
  ])("%s comes back byte for byte, and what follows it is kept apart", (_, text) => {
    const file = path.join(root, "app.conf");
    fs.writeFileSync(file, text);
    const read = parseConfigRead(sh(`${configReadScript(file)}; printf 'AFTER--\\n'`));
    expect(read.config).toBe(text);
    expect(read.rest).toBe("AFTER--\n");
  });

  test("a missing file reads as none", () => {
    const read = parseConfigRead(sh(`${configReadScript(path.join(root, "none.conf"))}; printf rest`));
    expect(read).toEqual({ rest: "rest" });
  });
});

describe("stdinToFileScript", () => {
  test("writes stdin to the file with mode 0600 and leaves no temp file, also when the write fails", () => {
    const file = path.join(root, "dir", "requirements.txt");
    fs.mkdirSync(path.dirname(file));
    execFileSync("/bin/sh", ["-c", `${stdinToFileScript(file)} && echo done`], { input: "a==1\n$(x)\n" });
    expect(fs.readFileSync(file, "utf8")).toBe("a==1\n$(x)\n");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const missing = path.join(root, "no-such-dir", "f");
    expect(() => execFileSync("/bin/sh", ["-c", stdinToFileScript(missing)], { input: "x", stdio: "pipe" })).toThrow();
    expect(fs.readdirSync(path.dirname(file))).toEqual(["requirements.txt"]);
  });
});

describe("parseVenvRead: the venvs on the host, read with the probe", () => {
  test("the live link, the record part, the ready seeds, the wheelhouse and every ready venv with its freeze, byte for byte", () => {
    const freezeA = "flask==3.0.0\nwerkzeug==3.0.1\n";
    const freezeB = "caf\u00e9==1.0\n-- not a separator\n";
    const text = `venvs/a\n--\nrecord line\n--\n.pip-seed-0123456789abcdef\n--\nflask-3.0.0-py3-none-any.whl\n--\na ${Buffer.byteLength(freezeA)}\n${freezeA}b ${Buffer.byteLength(freezeB)}\n${freezeB}`;
    const read = parseVenvRead(text);
    expect(read.previousTarget).toBe("venvs/a");
    expect(read.verifiedOut).toBe("record line\n");
    expect([...read.seeds]).toEqual([".pip-seed-0123456789abcdef"]);
    expect([...read.wheels]).toEqual(["flask-3.0.0-py3-none-any.whl"]);
    expect([...read.ready]).toEqual([["a", freezeA], ["b", freezeB]]);
    const empty = parseVenvRead("\n--\n--\n--\n--\n");
    expect([empty.ready.size, empty.seeds.size, empty.wheels.size]).toEqual([0, 0, 0]);
  });
});
