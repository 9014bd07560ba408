import fc from "fast-check";
import { changeKind, compareVersions, normalizeVersion, parseVersion } from "../../lib/pep440";

const sign = (n: number) => Math.sign(n) + 0; // +0 so that -0 equals 0 in toBe

describe("parseVersion", () => {
  test("reads every part", () => {
    expect(parseVersion("1!2.3.4rc5.post6.dev7+ubuntu.1")).toEqual({
      epoch: 1n,
      release: [2n, 3n, 4n],
      pre: { label: "rc", number: 5n },
      post: 6n,
      dev: 7n,
      local: ["ubuntu", 1n],
    });
  });

  test("a plain release has no optional parts", () => {
    expect(parseVersion("2.31.0")).toEqual({ epoch: 0n, release: [2n, 31n, 0n] });
  });

  test.each(["", "1.0+", "1.0+abc_", "one", "1..0", "1.0-", "1.0.post1.post2", "1.0 2", "==1.0", "1.0a1b2", "1.0+a+b", ".1"])(
    "%j is not PEP 440",
    (text) => {
      expect(parseVersion(text)).toBeUndefined();
      expect(normalizeVersion(text)).toBeUndefined();
    },
  );

  test("segments beyond 2^53 stay exact", () => {
    expect(parseVersion("1.99999999999999999999")!.release[1]).toBe(99999999999999999999n);
    expect(compareVersions("1.99999999999999999999", "1.99999999999999999998")).toBe(1);
  });
});

describe("normalizeVersion", () => {
  test.each([
    ["1.0", "1.0"],
    ["1.0.0", "1.0.0"], // normal form keeps trailing zeros; only comparison ignores them
    ["v1.0", "1.0"],
    ["  1.0\n", "1.0"],
    ["01.002", "1.2"],
    ["1.0alpha1", "1.0a1"],
    ["1.0-ALPHA.1", "1.0a1"],
    ["1.0beta2", "1.0b2"],
    ["1.0c3", "1.0rc3"],
    ["1.0pre3", "1.0rc3"],
    ["1.0preview3", "1.0rc3"],
    ["1.0_rc_3", "1.0rc3"],
    ["1.0a", "1.0a0"],
    ["1.0.a", "1.0a0"],
    ["1.0-1", "1.0.post1"],
    ["1.0post", "1.0.post0"],
    ["1.0-r2", "1.0.post2"],
    ["1.0.rev2", "1.0.post2"],
    ["1.0dev", "1.0.dev0"],
    ["1.0-dev-3", "1.0.dev3"],
    ["0!1.0", "1.0"],
    ["2!1.0", "2!1.0"],
    ["1.0+Ubuntu-1_02", "1.0+ubuntu.1.2"],
    ["1.0a1-2.dev3+x", "1.0a1.post2.dev3+x"],
  ])("%j -> %j", (text, normal) => {
    expect(normalizeVersion(text)).toBe(normal);
  });
});

describe("compareVersions", () => {
  // The ordering fixture from packaging's own test suite (tests/test_version.py).
  const ordered = (epoch: string) =>
    [
      "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
      "1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0c1.dev456", "1.0c1", "1.0rc2", "1.0c3",
      "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1", "1.2+123abc", "1.2+123abc456", "1.2+abc",
      "1.2+abc123", "1.2+abc123def", "1.2+1234.abc", "1.2+123456", "1.2.r32+123456", "1.2.rev33+123456",
    ].map((v) => epoch + v);
  const fixture = [...ordered(""), ...ordered("1!")];

  test("every pair of packaging's ordering fixture compares in order", () => {
    for (let i = 0; i < fixture.length; i++) {
      for (let j = 0; j < fixture.length; j++) {
        expect([fixture[i], fixture[j], sign(compareVersions(fixture[i]!, fixture[j]!))]).toEqual([fixture[i], fixture[j], sign(i - j)]);
      }
    }
  });

  test.each([
    ["1.10", "1.9"],
    ["1.0b1", "1.0a1"],
    ["1.0rc1", "1.0b1"],
    ["1.0", "1.0rc1"],
    ["1.0.post1", "1.0"],
    ["1.0a1", "1.0.dev1"],
    ["1.0+local", "1.0"],
    ["1.0.post1", "1.0+local"],
    ["1!0.1", "2.0"],
    ["1.0.1", "1.0"],
    ["1.0+2", "1.0+abc"], // numeric local parts sort above alphanumeric ones
    ["1.0+abc.1", "1.0+abc"],
    ["1.0", "totally-legacy"], // legacy versions sort below every valid one
  ])("%s > %s", (higher, lower) => {
    expect(compareVersions(higher, lower)).toBeGreaterThan(0);
    expect(compareVersions(lower, higher)).toBeLessThan(0);
  });

  test.each([
    ["1.0", "1.0.0"],
    ["1.0", "1.0.0.0.0"],
    ["1.0", "v1.0"],
    ["1.0a1", "1.0alpha1"],
    ["1.0rc1", "1.0c1"],
    ["1.0-1", "1.0.post1"],
    ["1.0+ABC", "1.0+abc"],
    ["1.0+01", "1.0+1"],
    ["0!1.0", "1.0"],
  ])("%s == %s", (a, b) => {
    expect(compareVersions(a, b)).toBe(0);
    expect(compareVersions(b, a)).toBe(0);
  });

  test("legacy versions order among themselves by plain string order", () => {
    expect(compareVersions("abc", "abd")).toBeLessThan(0);
    expect(compareVersions("dev-2023", "dev-2023")).toBe(0);
    expect(["1.0", "b", "0.1", "a"].sort(compareVersions)).toEqual(["a", "b", "0.1", "1.0"]);
  });
});

describe("changeKind", () => {
  test.each([
    ["1.2.3", "2.0.0", "major"],
    ["2.0.0", "1.2.3", "major"],
    ["1.2.3", "1.3.0", "minor"],
    ["1.2.3", "1.2.4", "patch"],
    ["1.2.3.4", "1.2.3.5", "patch"],
    ["1.2", "1.2.1", "patch"], // missing segments count as zero
    ["1.0", "1.1a1", "minor"],
    ["1.0a1", "1.0", "pre"],
    ["1.0", "1.0.post1", "pre"],
    ["1.0.dev1", "1.0.dev2", "pre"],
    ["1.0", "1.0+local", "pre"],
    ["2023.7.22", "2024.2.2", "calendar"], // a year is not a major version
    ["2024.1", "2024.2", "calendar"],
    ["20240101", "20240202", "calendar"],
    ["1.2.3", "2024.1", "calendar"], // the project switched to calendar versioning
    ["24.1", "25.1", "major"], // a two-digit year cannot be told from a major version
    ["1.0", "1.0.0", "other"], // equal versions
    ["1!1.0", "2!1.0", "other"], // new epoch: the numbering changed
    ["1.0", "legacy-1", "other"],
  ])("%s -> %s is %s", (from, to, kind) => {
    expect(changeKind(from, to)).toBe(kind);
  });
});

/** Valid versions from parts, each in its normal form and in a random alternate spelling. */
const versionParts = fc.record({
  epoch: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }),
  release: fc.array(fc.nat(12), { minLength: 1, maxLength: 4 }),
  pre: fc.option(fc.tuple(fc.constantFrom("a", "b", "rc"), fc.nat(3)), { nil: undefined }),
  post: fc.option(fc.nat(3), { nil: undefined }),
  dev: fc.option(fc.nat(3), { nil: undefined }),
  local: fc.option(fc.array(fc.oneof(fc.nat(20).map(String), fc.constantFrom("abc", "ubuntu", "z", "a1")), { minLength: 1, maxLength: 3 }), { nil: undefined }),
});
type Parts = typeof versionParts extends fc.Arbitrary<infer T> ? T : never;

const normalForm = (p: Parts) =>
  (p.epoch ? `${p.epoch}!` : "") +
  p.release.join(".") +
  (p.pre ? `${p.pre[0]}${p.pre[1]}` : "") +
  (p.post !== undefined ? `.post${p.post}` : "") +
  (p.dev !== undefined ? `.dev${p.dev}` : "") +
  (p.local ? `+${p.local.join(".")}` : "");

const spellings = { a: ["a", "alpha", "A", "ALPHA"], b: ["b", "beta", "Beta"], rc: ["rc", "c", "pre", "preview", "RC"] };
const sep = fc.constantFrom("", ".", "-", "_");
const altSpelling = (p: Parts) =>
  fc
    .record({
      v: fc.constantFrom("", "v", "V"),
      preLabel: fc.constantFrom(...spellings[p.pre?.[0] ?? "a"]),
      preSep: fc.tuple(sep, sep),
      post: fc.constantFrom("post", "rev", "r", "-"),
      postSep: fc.tuple(sep, sep),
      devSep: fc.tuple(sep, sep),
      localSep: fc.array(fc.constantFrom(".", "-", "_"), { minLength: 3, maxLength: 3 }),
      pad: fc.constantFrom("", " ", "\t"),
    })
    .map((s) => {
      const post =
        p.post === undefined ? "" : s.post === "-" ? `-${p.post}` : `${s.postSep[0]}${s.post}${s.postSep[1]}${p.post}`;
      return (
        s.pad +
        s.v +
        (p.epoch ? `${p.epoch}!` : "") +
        p.release.join(".") +
        (p.pre ? `${s.preSep[0]}${s.preLabel}${s.preSep[1]}${p.pre[1]}` : "") +
        post +
        (p.dev !== undefined ? `${s.devSep[0]}dev${s.devSep[1]}${p.dev}` : "") +
        (p.local ? `+${p.local.map((part, i) => (i ? s.localSep[i] : "") + part).join("")}` : "") +
        s.pad
      );
    });

const validVersion = versionParts.map(normalForm);
const anyVersion = fc.oneof(validVersion, fc.string({ maxLength: 8 }), fc.constantFrom("1.0-beta-x", "dev", "2013b", ""));

describe("properties", () => {
  test("any accepted spelling normalises to the normal form and compares equal to it", () => {
    fc.assert(
      fc.property(versionParts.chain((p) => fc.tuple(fc.constant(normalForm(p)), altSpelling(p))), ([normal, spelled]) => {
        expect(normalizeVersion(spelled)).toBe(normal);
        expect(compareVersions(spelled, normal)).toBe(0);
      }),
    );
  });

  test("normalizeVersion is idempotent", () => {
    fc.assert(
      fc.property(anyVersion, (text) => {
        const once = normalizeVersion(text);
        if (once !== undefined) expect(normalizeVersion(once)).toBe(once);
      }),
    );
  });

  test("compareVersions is antisymmetric and reflexive, valid or not", () => {
    fc.assert(
      fc.property(anyVersion, anyVersion, (a, b) => {
        expect(sign(compareVersions(a, b)) + sign(compareVersions(b, a))).toBe(0);
        expect(compareVersions(a, a)).toBe(0);
      }),
    );
  });

  test("compareVersions is transitive", () => {
    fc.assert(
      fc.property(anyVersion, anyVersion, anyVersion, (a, b, c) => {
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        if (compareVersions(a, b) === 0 && compareVersions(b, c) === 0) expect(compareVersions(a, c)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  test("sorting with compareVersions gives a list where every pair is in order", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 5, arbitrary: validVersion }, { weight: 1, arbitrary: anyVersion }), { maxLength: 25 }), (versions) => {
        const sorted = [...versions].sort(compareVersions);
        for (let i = 0; i < sorted.length; i++) {
          for (let j = i + 1; j < sorted.length; j++) expect(compareVersions(sorted[i]!, sorted[j]!)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  test("adding a segment, a post release or a local label never sorts lower; a dev or pre release always does", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(30), { minLength: 1, maxLength: 4 }), fc.nat(9), (release, n) => {
        const base = release.join(".");
        expect(compareVersions(`${base}.${n}`, base)).toBeGreaterThanOrEqual(0);
        expect(compareVersions(`${base}.post${n}`, base)).toBeGreaterThan(0);
        expect(compareVersions(`${base}+${n}`, base)).toBeGreaterThan(0);
        expect(compareVersions(`${base}.dev${n}`, base)).toBeLessThan(0);
        expect(compareVersions(`${base}rc${n}`, base)).toBeLessThan(0);
        expect(compareVersions(`${base}.dev${n}`, `${base}a0`)).toBeLessThan(0);
      }),
    );
  });

  test("changeKind names the first release segment that differs", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(9), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 5 }), (release, at, bump) => {
        const to = release.map((n, i) => (i === at ? n + bump : i > at ? 0 : n));
        expect(changeKind(release.join("."), to.join("."))).toBe(["major", "minor", "patch"][at]);
        expect(changeKind(to.join("."), release.join("."))).toBe(["major", "minor", "patch"][at]);
      }),
    );
  });
});
