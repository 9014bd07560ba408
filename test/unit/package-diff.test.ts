import fc from "fast-check";
import { changeText, diffPackages } from "../../lib/package-diff";
import { compareVersions } from "../../lib/pep440";
import { packagesFromEntries, parseRequirements } from "../../lib/requirements";

const lock = (text: string) => {
  const parsed = parseRequirements(text);
  expect(parsed.errors).toEqual([]);
  return packagesFromEntries(parsed.entries);
};

describe("diffPackages", () => {
  test("sorts every change into its list", () => {
    const before = lock(`
Django==4.2.7
requests==2.31.0
urllib3==2.1.0
certifi==2024.2.2
idna==3.6
gunicorn==21.2.0
six==1.16.0
mylib @ https://files.example/mylib-1.0-py3-none-any.whl
app @ git+https://git.example/app.git@v1
`);
    const after = lock(`
Django==5.0.1
requests==2.32.0
urllib3==2.1.1
certifi==2024.2.2
idna==3.6rc1
six==1.16.0
mylib==1.1
app @ git+https://git.example/app.git@v2
Flask==3.0.0
`);
    expect(diffPackages(before, after)).toEqual({
      added: [{ name: "flask", version: "3.0.0" }],
      removed: [{ name: "gunicorn", version: "21.2.0" }],
      upgraded: [
        { name: "django", from: "4.2.7", to: "5.0.1", changeKind: "major" },
        { name: "requests", from: "2.31.0", to: "2.32.0", changeKind: "minor" },
        { name: "urllib3", from: "2.1.0", to: "2.1.1", changeKind: "patch" },
      ],
      downgraded: [{ name: "idna", from: "3.6", to: "3.6rc1", changeKind: "pre" }],
      changedSource: [
        { name: "app", from: "@ git+https://git.example/app.git@v1", to: "@ git+https://git.example/app.git@v2" },
        { name: "mylib", from: "@ https://files.example/mylib-1.0-py3-none-any.whl", to: "1.1" },
      ],
      unchanged: 2,
      hasChanges: true,
    });
  });

  test("keys are compared after normalisation", () => {
    expect(diffPackages({ Foo_Bar: "1.0" }, { "foo.bar": "1.0" })).toMatchObject({ added: [], removed: [], unchanged: 1, hasChanges: false });
    expect(diffPackages({ "Zope.Interface": "5.0" }, { zope_interface: "6.0" }).upgraded).toEqual([{ name: "zope-interface", from: "5.0", to: "6.0", changeKind: "major" }]);
  });

  test("equal PEP 440 versions are unchanged even when spelled differently", () => {
    expect(diffPackages({ a: "1.0", b: "2.0a1" }, { a: "1.0.0", b: "2.0alpha1" })).toMatchObject({ unchanged: 2, hasChanges: false });
  });

  test("a pin becoming a URL is a source change, and the same URL is unchanged", () => {
    expect(diffPackages({ a: "1.0", b: "@ https://x/b.whl" }, { a: "@ https://x/a.whl", b: "@ https://x/b.whl" })).toMatchObject({
      changedSource: [{ name: "a", from: "1.0", to: "@ https://x/a.whl" }],
      upgraded: [],
      downgraded: [],
      unchanged: 1,
      hasChanges: true,
    });
  });

  test("legacy versions still diff, as kind other", () => {
    expect(diffPackages({ old: "1.0-legacy" }, { old: "1.1" }).upgraded).toEqual([{ name: "old", from: "1.0-legacy", to: "1.1", changeKind: "other" }]);
  });

  test("a calendar-versioned bump is a calendar version, not major/minor; a pre-release target is marked", () => {
    const diff = diffPackages({ certifi: "2023.7.22", flask: "1.1.0", idna: "3.6", tzdata: "2024.1" }, { certifi: "2024.2.2", flask: "2.0.0rc1", idna: "3.7.dev1", tzdata: "2024.1rc1" });
    expect(diff.upgraded).toEqual([
      { name: "certifi", from: "2023.7.22", to: "2024.2.2", changeKind: "calendar" },
      { name: "flask", from: "1.1.0", to: "2.0.0rc1", changeKind: "major", preRelease: true },
      { name: "idna", from: "3.6", to: "3.7.dev1", changeKind: "minor", preRelease: true },
    ]);
    // Same release, only the pre-release part differs: "pre" already says it.
    expect(diff.downgraded).toEqual([{ name: "tzdata", from: "2024.1", to: "2024.1rc1", changeKind: "pre" }]);
    expect(diff.upgraded.map((c) => changeText(c))).toEqual(["calendar version", "major, pre-release", "minor, pre-release"]);
    expect(changeText(diff.upgraded[1]!, (w) => `**${w}**`)).toBe("**major**, **pre-release**");
  });

  test("local and post releases are upgrades of kind pre", () => {
    expect(diffPackages({ torch: "2.1.0", x: "1.0" }, { torch: "2.1.0+cpu", x: "1.0.post1" }).upgraded.map((c) => c.changeKind)).toEqual(["pre", "pre"]);
  });

  test("no packages on either side is no change", () => {
    expect(diffPackages({}, {})).toEqual({ added: [], removed: [], upgraded: [], downgraded: [], changedSource: [], unchanged: 0, hasChanges: false });
  });
});

const pkgName = fc.constantFrom("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta");
const pkgValue = fc.oneof(
  fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }).map((r) => r.join(".")),
  fc.constantFrom("@ https://x/a.whl", "@ https://x/b.whl", "1.0rc1", "1.0.post1"),
);
const packages = fc.dictionary(pkgName, pkgValue);

describe("diffPackages properties", () => {
  test("every name lands in exactly one place, and lists are sorted", () => {
    fc.assert(
      fc.property(packages, packages, (before, after) => {
        const d = diffPackages(before, after);
        const names = [...d.added, ...d.removed, ...d.upgraded, ...d.downgraded, ...d.changedSource].map((c) => c.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names.length + d.unchanged).toBe(new Set([...Object.keys(before), ...Object.keys(after)]).size);
        for (const list of [d.added, d.removed, d.upgraded, d.downgraded, d.changedSource]) {
          expect(list.map((c) => c.name)).toEqual(list.map((c) => c.name).sort());
        }
        expect(d.hasChanges).toBe(names.length > 0);
        for (const c of d.upgraded) expect(compareVersions(c.from, c.to)).toBeLessThan(0);
        for (const c of d.downgraded) expect(compareVersions(c.from, c.to)).toBeGreaterThan(0);
      }),
    );
  });

  test("reversing a diff swaps added/removed and upgraded/downgraded", () => {
    fc.assert(
      fc.property(packages, packages, (before, after) => {
        const d = diffPackages(before, after);
        const r = diffPackages(after, before);
        const flip = <T extends { from: string; to: string }>({ from, to, ...rest }: T) => ({ ...rest, from: to, to: from });
        // preRelease describes the target, so it is the one part that does not swap.
        const kindOnly = <T extends { preRelease?: true }>({ preRelease: _, ...rest }: T) => rest;
        expect(r.added).toEqual(d.removed);
        expect(r.removed).toEqual(d.added);
        expect(r.upgraded.map(flip).map(kindOnly)).toEqual(d.downgraded.map(kindOnly));
        expect(r.downgraded.map(flip).map(kindOnly)).toEqual(d.upgraded.map(kindOnly));
        expect(r.changedSource.map(flip)).toEqual(d.changedSource);
        expect(r.unchanged).toBe(d.unchanged);
      }),
    );
  });

  test("a map diffed with itself has no changes", () => {
    fc.assert(fc.property(packages, (p) => expect(diffPackages(p, p)).toMatchObject({ hasChanges: false, unchanged: Object.keys(p).length })));
  });
});
