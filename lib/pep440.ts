/**
 * PEP 440 versions: parse, normalise, order, and say what kind of change a bump is.
 * Grammar and ordering follow the `packaging` library that pip uses, so what we show
 * reviewers agrees with what pip will install. Pure.
 */

export type PreLabel = "a" | "b" | "rc";

/**
 * A parsed version. Numbers are bigint because PEP 440 puts no bound on them and a
 * compare must be exact; do not JSON.stringify this, store `normalizeVersion` instead.
 */
export interface Pep440Version {
  readonly epoch: bigint;
  readonly release: readonly bigint[];
  readonly pre?: { readonly label: PreLabel; readonly number: bigint };
  readonly post?: bigint;
  readonly dev?: bigint;
  /** Local label split on `.`/`-`/`_`: numeric parts as bigint, others lowercased. */
  readonly local?: readonly (string | bigint)[];
}

export type ChangeKind = "major" | "minor" | "patch" | "calendar" | "pre" | "other";

// packaging's VERSION_PATTERN, which also accepts the alternate spellings PEP 440 allows.
const VERSION_RE = new RegExp(
  [
    "^\\s*v?",
    "(?:(?<epoch>[0-9]+)!)?",
    "(?<release>[0-9]+(?:\\.[0-9]+)*)",
    "(?:[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?",
    "(?:-(?<postN1>[0-9]+)|[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?)?",
    "(?<dev>[-_.]?dev[-_.]?(?<devN>[0-9]+)?)?",
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?",
    "\\s*$",
  ].join(""),
  "i",
);

const PRE_LABELS: Record<string, PreLabel> = { a: "a", alpha: "a", b: "b", beta: "b", c: "rc", rc: "rc", pre: "rc", preview: "rc" };

/** The version, or undefined when `text` is not PEP 440 (a "legacy" version). */
export function parseVersion(text: string): Pep440Version | undefined {
  const g = VERSION_RE.exec(text)?.groups;
  if (!g) return undefined;
  const num = (digits: string | undefined) => BigInt(digits ?? "0");
  const hasPost = g.postN1 !== undefined || g.postL !== undefined;
  return {
    epoch: num(g.epoch),
    release: g.release!.split(".").map((part) => BigInt(part)),
    ...(g.preL !== undefined && { pre: { label: PRE_LABELS[g.preL.toLowerCase()]!, number: num(g.preN) } }),
    ...(hasPost && { post: num(g.postN1 ?? g.postN2) }),
    ...(g.dev !== undefined && { dev: num(g.devN) }),
    ...(g.local !== undefined && {
      local: g.local.split(/[-_.]/).map((part) => (/^[0-9]+$/.test(part) ? BigInt(part) : part.toLowerCase())),
    }),
  };
}

/** The PEP 440 normal form ("1.0-Alpha.1" -> "1.0a1"), or undefined for a legacy version. */
export function normalizeVersion(text: string): string | undefined {
  const v = parseVersion(text);
  return v && formatVersion(v);
}

export function formatVersion(v: Pep440Version): string {
  return [
    v.epoch !== 0n ? `${v.epoch}!` : "",
    v.release.join("."),
    v.pre ? `${v.pre.label}${v.pre.number}` : "",
    v.post !== undefined ? `.post${v.post}` : "",
    v.dev !== undefined ? `.dev${v.dev}` : "",
    v.local ? `+${v.local.join(".")}` : "",
  ].join("");
}

const sign = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Release segments compare as if padded with zeros, so 1.0 == 1.0.0. */
function compareRelease(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = sign(a[i] ?? 0n, b[i] ?? 0n);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Where the pre-release part sorts: a dev release of a final version (1.0.dev1) comes
 * before its pre-releases, a final version after them. Ranks: a=0, b=1, rc=2.
 */
function preKey(v: Pep440Version): [number, bigint] {
  if (v.pre) return [{ a: 0, b: 1, rc: 2 }[v.pre.label], v.pre.number];
  if (v.post === undefined && v.dev !== undefined) return [-1, 0n];
  return [3, 0n];
}

/** Local labels: absent sorts lowest; per part, strings sort below numbers. */
function compareLocal(a: Pep440Version["local"], b: Pep440Version["local"]): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x !== typeof y) return typeof x === "string" ? -1 : 1;
    const c = typeof x === "string" ? (x < y ? -1 : x > y ? 1 : 0) : sign(x as bigint, y as bigint);
    if (c !== 0) return c;
  }
  return Math.sign(a.length - b.length);
}

function comparePep440(a: Pep440Version, b: Pep440Version): number {
  const [preA, preNumA] = preKey(a);
  const [preB, preNumB] = preKey(b);
  return (
    sign(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    Math.sign(preA - preB) ||
    sign(preNumA, preNumB) ||
    // No post sorts before any post; no dev sorts after any dev.
    sign(a.post ?? -1n, b.post ?? -1n) ||
    (a.dev === undefined ? 1 : 0) - (b.dev === undefined ? 1 : 0) ||
    sign(a.dev ?? 0n, b.dev ?? 0n) ||
    compareLocal(a.local, b.local)
  );
}

/**
 * Negative, zero or positive like a sort comparator. Legacy (non-PEP 440) versions sort
 * below every valid one and among themselves by plain string order, so this is a total
 * order over all strings and never throws.
 */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va && vb) return comparePep440(va, vb);
  if (va || vb) return va ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A first release segment this large reads as a year or a date (calendar versioning:
 * 2024.2.2, 24.1 is not, 20240202 is), whose segments carry no major/minor meaning.
 */
const CALENDAR_YEAR = 1900n;

/**
 * What kind of change `from` -> `to` is, by the first release segment that differs:
 * major (1st), minor (2nd), patch (3rd or later). "calendar" instead when either side is
 * calendar-versioned (a bump of the year says nothing about compatibility). "pre" when
 * the release is the same and only pre/post/dev/local parts differ. "other" when either
 * is not PEP 440, the epochs differ (the numbering scheme changed), or they are equal.
 */
export function changeKind(from: string, to: string): ChangeKind {
  const a = parseVersion(from);
  const b = parseVersion(to);
  if (!a || !b || a.epoch !== b.epoch) return "other";
  for (let i = 0; i < Math.max(a.release.length, b.release.length); i++) {
    if ((a.release[i] ?? 0n) !== (b.release[i] ?? 0n)) {
      if (a.release[0]! >= CALENDAR_YEAR || b.release[0]! >= CALENDAR_YEAR) return "calendar";
      return i === 0 ? "major" : i === 1 ? "minor" : "patch";
    }
  }
  return comparePep440(a, b) === 0 ? "other" : "pre";
}

/** A pre-release or development release (2.0.0rc1, 1.0.dev3), which pip skips unless pinned. */
export function isPreRelease(text: string): boolean {
  const v = parseVersion(text);
  return v !== undefined && (v.pre !== undefined || v.dev !== undefined);
}
