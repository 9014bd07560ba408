import fc from "fast-check";
import { appSpec, venvSpec } from "./drift-fixtures";
import { compareApp, compareKept, compareVenv, desiredReleaseFiles, sameVersion } from "../../lib/drift/compare";
import type { AppObservation, VenvObservation } from "../../lib/drift/probe";
import { exitCodeOf, type DriftReport, type PackageRow } from "../../lib/drift/model";
import { apacheConfigOf } from "../../lib/render/unit-files";

/** The three-way comparison (desired / recorded / live) and the app comparison, on plain data. */
const live = (packages: [string, string][], extra: Partial<VenvObservation> = {}): VenvObservation => ({
  link: "venvs/private-venv/0123456789abcdef",
  exists: true,
  recorded: "flask==3.0.0\nwerkzeug==3.0.1\n",
  live: { ok: true, python: "3.11.2", packages: packages.map(([name, version]) => ({ name, version })) },
  ...extra,
});

const where = { stack: "site", target: "www@web.example:22" };
const drifted = (rows: PackageRow[]) => rows.filter((r) => r.problem !== undefined).map((r) => [r.name, r.problem]);

describe("venv: with a lock", () => {
  test("live == desired == recorded is no drift, names normalised both ways", () => {
    const d = compareVenv(venvSpec(), live([["Flask", "3.0"], ["werkzeug", "3.0.1"]]), where);
    expect(d.drifted).toBe(false);
    expect(d.fix).toBe("none");
    expect(d.packages).toEqual([
      { name: "flask", desired: "3.0.0", recorded: "3.0.0", live: "3.0" },
      { name: "werkzeug", desired: "3.0.1", recorded: "3.0.1", live: "3.0.1" },
    ]);
  });

  test("another version, a removed and an added package are each named; the fix rebuilds", () => {
    const d = compareVenv(venvSpec(), live([["flask", "3.1.0"], ["Some_Extra", "1.0"]]), where);
    expect(drifted(d.packages)).toEqual([
      ["flask", "changed"],
      ["some-extra", "unexpected"],
      ["werkzeug", "missing"],
    ]);
    expect(d.packages.find((p) => p.name === "flask")).toEqual({ name: "flask", desired: "3.0.0", recorded: "3.0.0", live: "3.1.0", problem: "changed" });
    expect(d.fix).toBe("rebuild-venv");
  });

  test("a stale freeze.txt with a correct venv only needs the record rewritten", () => {
    const d = compareVenv(venvSpec(), live([["flask", "3.0.0"], ["werkzeug", "3.0.1"]], { recorded: "flask==2.0\n" }), where);
    expect(drifted(d.packages)).toEqual([
      ["flask", "unrecorded"],
      ["werkzeug", "unrecorded"],
    ]);
    expect(d.fix).toBe("rewrite-freeze");
  });

  test("a missing freeze.txt is drift (recorded: missing), not an error", () => {
    const d = compareVenv(venvSpec(), live([["flask", "3.0.0"], ["werkzeug", "3.0.1"]], { recorded: null }), where);
    expect(d.recorded).toBe("missing");
    expect(d.drifted).toBe(true);
    expect(d.fix).toBe("rewrite-freeze");
    expect(drifted(d.packages)).toEqual([]);
  });

  test("an unparseable freeze.txt line is reported with its number", () => {
    const d = compareVenv(venvSpec(), live([["flask", "3.0.0"], ["werkzeug", "3.0.1"]], { recorded: "flask==3.0.0\nwerkzeug==3.0.1\nthis is not a requirement\n" }), where);
    expect(d.recordedErrors).toEqual([expect.stringMatching(/^line 3: /)]);
    expect(d.fix).toBe("rewrite-freeze");
  });

  test("a venv that is not there, or whose interpreter fails, is rebuilt", () => {
    const gone = compareVenv(venvSpec(), { link: null, exists: false, recorded: null }, where);
    expect(gone.live).toEqual({ state: "missing" });
    expect(drifted(gone.packages)).toEqual([
      ["flask", "missing"],
      ["werkzeug", "missing"],
    ]);
    expect(gone.fix).toBe("rebuild-venv");
    const broken = compareVenv(venvSpec(), live([], { live: { ok: false, error: "exit 127: No such file" } }), where);
    expect(broken.live).toEqual({ state: "broken", error: "exit 127: No such file" });
    expect(broken.fix).toBe("rebuild-venv");
  });

  test("a URL install compares by URL, not version", () => {
    const spec = venvSpec({ packages: { tool: "@ https://x.example/tool-1.0-py3-none-any.whl" } });
    const obs: VenvObservation = {
      link: null,
      exists: true,
      recorded: "tool @ https://x.example/tool-1.0-py3-none-any.whl\n",
      live: { ok: true, python: "3.11.2", packages: [{ name: "tool", version: "1.0", url: "https://x.example/tool-1.0-py3-none-any.whl" }] },
    };
    expect(compareVenv(spec, obs, where).drifted).toBe(false);
  });
});

describe("venv: without a lock", () => {
  const loose = venvSpec({ lockFile: undefined, packages: undefined, requirements: ["flask>=3", "requests"] });

  test("desired versions are unknown: requirement names must be installed, the record is the reference", () => {
    const d = compareVenv(loose, live([["flask", "3.0.0"], ["werkzeug", "3.0.1"]], { recorded: "flask==3.0.0\nwerkzeug==3.0.1\n" }), where);
    expect(d.hasLock).toBe(false);
    expect(drifted(d.packages)).toEqual([["requests", "missing"]]);
    expect(d.packages.find((p) => p.name === "flask")).toEqual({ name: "flask", requirement: ">=3", recorded: "3.0.0", live: "3.0.0" });
  });

  test("a package changed or added since the deploy is drift against the record", () => {
    const d = compareVenv(loose, live([["flask", "3.1.0"], ["requests", "2.0"], ["six", "1.0"]], { recorded: "flask==3.0.0\nrequests==2.0\n" }), where);
    expect(drifted(d.packages)).toEqual([
      ["flask", "changed"],
      ["six", "unexpected"],
    ]);
  });

  test("with no record either, only missing requirement names count", () => {
    const ok = compareVenv(loose, live([["flask", "3.1.0"], ["requests", "2.0"], ["six", "1.0"]], { recorded: null }), where);
    expect(drifted(ok.packages)).toEqual([]);
    expect(ok.fix).toBe("rewrite-freeze");
  });
});

describe("app", () => {
  const observed = (files: Record<string, string>, config: string | null = apacheConfigOf(appSpec)): AppObservation => ({
    link: "private/releases/public/0123456789abcdef",
    exists: true,
    files: { ...files, ".webshare-manifest.json": "f".repeat(64), ".webshare-ready": "0".repeat(64) },
    config,
  });

  test("the live release with the entry point and bytecode caches is in sync", () => {
    const files = { ...desiredReleaseFiles(appSpec), "__pycache__/app.cpython-311.pyc": "9".repeat(64) };
    const d = compareApp(appSpec, observed(files), where);
    expect(d.drifted).toBe(false);
    expect(d.checkedFiles).toBe(3);
  });

  test("changed, missing and extra files are named; the fix uploads a fresh release", () => {
    const d = compareApp(appSpec, observed({ "app.py": "1".repeat(64), "wwwshare.wsgi": "e".repeat(64), "evil.py": "2".repeat(64) }), where);
    expect(d.files.map((f) => [f.path, f.problem])).toEqual([
      ["app.py", "changed"],
      ["evil.py", "unexpected"],
      ["static/x.css", "missing"],
    ]);
    expect(d.fix).toBe("redeploy-app");
  });

  test("an edited entry point is drift too", () => {
    const d = compareApp(appSpec, observed({ ...desiredReleaseFiles(appSpec), "wwwshare.wsgi": "3".repeat(64) }), where);
    expect(d.files).toEqual([{ path: "wwwshare.wsgi", problem: "changed", desired: "e".repeat(64), live: "3".repeat(64) }]);
  });

  test("a changed Apache config alone is reinstalled, with the differing lines", () => {
    const edited = apacheConfigOf(appSpec).replace("processes=2", "processes=9");
    const d = compareApp(appSpec, observed(desiredReleaseFiles(appSpec), edited), where);
    expect(d.apacheConfig.state).toBe("changed");
    expect(d.apacheConfig.onlyLive).toEqual([expect.stringContaining("processes=9")]);
    expect(d.apacheConfig.onlyDesired).toEqual([expect.stringContaining("processes=2")]);
    expect(d.fix).toBe("reinstall-apache-config");
    expect(compareApp(appSpec, observed(desiredReleaseFiles(appSpec), null), where).apacheConfig.state).toBe("missing");
  });

  test("an app that is not deployed is drift", () => {
    const d = compareApp(appSpec, { link: null, exists: false, files: {}, config: null }, where);
    expect(d.deployed).toBe(false);
    expect(d.fix).toBe("redeploy-app");
  });
});

describe("versions and exit codes", () => {
  test("sameVersion is PEP 440 equality and symmetric", () => {
    expect(sameVersion("1.0", "1.0.0")).toBe(true);
    expect(sameVersion("1.10", "1.9")).toBe(false);
    expect(sameVersion("@ https://a", "1.0")).toBe(false);
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => sameVersion(a, b) === sameVersion(b, a)));
  });

  test("0 no drift, 2 drift, 1 error; after --fix the final state decides", () => {
    const base: DriftReport = { units: [], failures: [], hosts: 1, seconds: 0 };
    const inSync = compareVenv(venvSpec(), live([["flask", "3.0.0"], ["werkzeug", "3.0.1"]]), where);
    const drift = compareVenv(venvSpec(), live([["flask", "3.1.0"]]), where);
    expect(exitCodeOf({ ...base, units: [inSync] })).toBe(0);
    expect(exitCodeOf({ ...base, units: [inSync, drift] })).toBe(2);
    expect(exitCodeOf({ ...base, units: [drift], failures: [{ target: "t", units: ["u"], message: "down" }] })).toBe(1);
    expect(exitCodeOf({ ...base, units: [drift], fixes: [{ unit: "u", target: "t", action: "rebuild-venv", ok: true }], after: [inSync] })).toBe(0);
    expect(exitCodeOf({ ...base, units: [drift], fixes: [{ unit: "u", target: "t", action: "rebuild-venv", ok: false }], after: [drift] })).toBe(1);
  });
});

describe("kept releases (what rollback may switch to)", () => {
  const A = "a".repeat(64);
  const B = "b".repeat(64);
  const C = "c".repeat(64);
  const release = (id: string, manifest: Record<string, string> | null, files: Record<string, string>) => ({ id, dir: `/h/private/releases/public/${id}`, manifest, files });

  test("each is compared with its own manifest; bytecode caches do not count; the live release and the other kept ones are the sources of a restore", () => {
    const obs: AppObservation = {
      link: "private/releases/public/1111111111111111",
      exists: true,
      files: { ...desiredReleaseFiles(appSpec) },
      config: apacheConfigOf(appSpec),
      releaseDir: "/h/private/releases/public/1111111111111111",
      kept: [
        release("2222222222222222", { "app.py": A, "lib/x.py": B }, { "app.py": C, "lib/x.py": B, "__pycache__/app.pyc": C, "hand.py": C }),
        release("3333333333333333", { "other.py": A }, { "other.py": A }),
        release("4444444444444444", null, { "x.py": A }),
      ],
    };
    const d = compareApp(appSpec, obs, where);
    expect(d.files).toEqual([]);
    expect(d.fix).toBe("restore-kept-releases");
    expect(d.drifted).toBe(true);
    expect(d.kept!.map((k) => k.id)).toEqual(["2222222222222222", "3333333333333333"]);
    const [edited, intact] = d.kept!;
    expect(edited!.files.map((f) => [f.path, f.problem])).toEqual([["app.py", "changed"], ["hand.py", "unexpected"]]);
    // The live release holds app.py with the deployed content: copied from there.
    expect(desiredReleaseFiles(appSpec)["app.py"]).toBe(A);
    expect(edited!.restore).toEqual({ dir: "/h/private/releases/public/2222222222222222", copies: [{ from: "/h/private/releases/public/1111111111111111/app.py", to: "app.py", sha256: A }], remove: ["hand.py"], unavailable: [] });
    expect(intact!.files).toEqual([]);
  });

  test("the same path is preferred as a source; content held nowhere is unavailable", () => {
    const obs: AppObservation = {
      link: "private/releases/public/1111111111111111",
      exists: true,
      files: { "app.py": A, "z.py": B },
      config: null,
      releaseDir: "/h/live",
      kept: [release("2222222222222222", { "app.py": A, "y.py": B, "gone.py": "d".repeat(64) }, { "app.py": B, "y.py": C })],
    };
    const [k] = compareKept(appSpec, obs);
    expect(k!.restore.copies).toEqual([
      { from: "/h/live/app.py", to: "app.py", sha256: A },
      { from: "/h/live/z.py", to: "y.py", sha256: B },
    ]);
    expect(k!.restore.unavailable).toEqual(["gone.py"]);
  });
});
