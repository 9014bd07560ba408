import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readWheel, runRealWheelBuilder } from "../support/real-wheels";

/**
 * scripts/real-wheels/build.py: wheels of Debian's installed Flask, Django and their
 * dependencies. Never skipped: without the Debian packages the build fails and says to run
 * scripts/host/install.sh.
 */
let tmp: string;
let wheels: string[];
const entries = new Map<string, Map<string, Buffer>>();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-real-wheels-"));
  wheels = runRealWheelBuilder(path.join(tmp, "a"));
  for (const wheel of wheels) entries.set(wheel, readWheel(path.join(tmp, "a", wheel)));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The wheel of a project (lowercase name as in the file name); fails when there is not exactly one. */
function wheelOf(project: string): string {
  const found = wheels.filter((w) => w.startsWith(`${project}-`));
  expect(found).toHaveLength(1);
  return found[0]!;
}

function distInfoFile(wheel: string, file: string): string {
  const name = [...entries.get(wheel)!.keys()].find((n) => n.endsWith(`.dist-info/${file}`));
  if (name === undefined) throw new Error(`${wheel} has no .dist-info/${file}`);
  return entries.get(wheel)!.get(name)!.toString("utf8");
}

function requiresDist(wheel: string): string[] {
  return distInfoFile(wheel, "METADATA")
    .split("\n")
    .filter((l) => l.startsWith("Requires-Dist: "))
    .map((l) => l.slice("Requires-Dist: ".length));
}

test("one wheel per package, named project-version-tag, C extensions tagged cp311-cp311-linux_x86_64", () => {
  expect(wheels).toHaveLength(11);
  const pure = ["asgiref-3\\.6", "click-8\\.1", "django-3\\.2", "flask-2\\.2", "itsdangerous-2\\.1", "jinja2-3\\.1", "pytz-\\d{4}", "sqlparse-0\\.4", "werkzeug-2\\.2"];
  for (const prefix of pure) expect(wheels).toContainEqual(expect.stringMatching(new RegExp(`^${prefix}\\.[0-9.]+-py3-none-any\\.whl$`)));
  expect(wheels).toContainEqual(expect.stringMatching(/^markupsafe-2\.1\.[0-9]+-cp311-cp311-linux_x86_64\.whl$/));
  expect(wheels).toContainEqual(expect.stringMatching(/^pyyaml-6\.0(\.[0-9]+)?-cp311-cp311-linux_x86_64\.whl$/));
  for (const wheel of wheels) {
    const tag = wheel.split("-").slice(2).join("-").replace(/\.whl$/, "");
    const info = distInfoFile(wheel, "WHEEL");
    expect(info).toContain(`\nTag: ${tag}\n`);
    expect(info).toContain(`\nRoot-Is-Purelib: ${tag === "py3-none-any" ? "true" : "false"}\n`);
    const names = [...entries.get(wheel)!.keys()];
    expect(names.some((n) => n.endsWith(".so"))).toBe(tag !== "py3-none-any");
    // Nothing Debian-only or generated: no byte code, no docs, no egg-info bookkeeping.
    expect(names.filter((n) => /__pycache__|\.pyc$|usr\/share|egg-info|requires\.txt|dependency_links/.test(n))).toEqual([]);
  }
  expect(entries.get(wheelOf("markupsafe"))!.has("markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so")).toBe(true);
  expect(entries.get(wheelOf("pyyaml"))!.has("yaml/_yaml.cpython-311-x86_64-linux-gnu.so")).toBe(true);
  // Debian makes Django admin's jquery.js a symlink into libjs-jquery: the wheel holds the file.
  expect(entries.get(wheelOf("django"))!.get("django/contrib/admin/static/admin/js/vendor/jquery/jquery.js")!.length).toBeGreaterThan(10000);
  // Console scripts come from entry_points.txt.
  expect(distInfoFile(wheelOf("django"), "entry_points.txt")).toContain("django-admin = django.core.management:execute_from_command_line");
  expect(distInfoFile(wheelOf("flask"), "entry_points.txt")).toContain("flask = flask.cli:main");
});

test("METADATA has the Requires-Dist lines Debian's metadata lacks, so pip resolves the real dependency graph", () => {
  expect(requiresDist(wheelOf("flask"))).toEqual(expect.arrayContaining(["Werkzeug>=2.2.2", "Jinja2>=3.0", "itsdangerous>=2.0", "click>=8.0"]));
  expect(requiresDist(wheelOf("django"))).toEqual(expect.arrayContaining(["asgiref<4,>=3.3.2", "pytz", "sqlparse>=0.2.2"]));
  expect(requiresDist(wheelOf("werkzeug"))).toContain("MarkupSafe>=2.1.1");
  expect(requiresDist(wheelOf("jinja2"))).toContain("MarkupSafe>=2.0");
  // Extras Debian kept in requires.txt stay extras; Windows-only stays Windows-only.
  expect(requiresDist(wheelOf("flask"))).toContain('asgiref>=3.2; extra == "async"');
  expect(requiresDist(wheelOf("click"))).toContain('colorama; platform_system == "Windows"');
  for (const wheel of ["itsdangerous", "markupsafe", "pytz", "pyyaml", "sqlparse"]) expect(requiresDist(wheelOf(wheel))).toEqual([]);
  // Name and Version are the upstream ones (what requirement lines and locks name).
  expect(distInfoFile(wheelOf("django"), "METADATA")).toMatch(/^Metadata-Version: 2\.1\nName: Django\nVersion: 3\.2\.\d+\n/);
});

test("RECORD lists every other entry with its sha256 (urlsafe base64, no padding) and size", () => {
  for (const wheel of wheels) {
    const files = entries.get(wheel)!;
    const recordName = [...files.keys()].find((n) => n.endsWith(".dist-info/RECORD"))!;
    const rows = files.get(recordName)!.toString("utf8").trimEnd().split("\n").map((l) => l.split(","));
    const listed = new Set(rows.map((r) => r[0]));
    expect([...files.keys()].filter((n) => !listed.has(n))).toEqual([]);
    expect(rows.length).toBe(files.size);
    for (const [name, hash, size] of rows) {
      if (name === recordName) {
        expect([hash, size]).toEqual(["", ""]);
        continue;
      }
      const data = files.get(name!)!;
      expect(`${name},${hash},${size}`).toBe(`${name},sha256=${createHash("sha256").update(data).digest("base64url")},${data.length}`);
    }
    // RECORD is the last entry, after the rest of the .dist-info (which follows the code).
    expect([...files.keys()].at(-1)).toBe(recordName);
  }
});

test("a second build gives the same bytes", () => {
  const again = runRealWheelBuilder(path.join(tmp, "b"));
  expect(again).toEqual(wheels);
  for (const wheel of wheels) {
    const a = fs.readFileSync(path.join(tmp, "a", wheel));
    const b = fs.readFileSync(path.join(tmp, "b", wheel));
    expect(`${wheel} ${b.equals(a) ? "identical" : "differs"}`).toBe(`${wheel} identical`);
  }
});
