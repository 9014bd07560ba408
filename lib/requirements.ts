/**
 * pip requirement files (hand-written requirements, locks, `pip freeze` output): parse
 * into entries, render back, and reduce a lock to name -> version for plans. Line joining,
 * comments and the requirement/option split follow pip's own req_file.py, so a file we
 * accept means the same to pip on the host. Pure: text in, data out.
 */
import { parseVersion } from "./pep440";

interface EntryBase {
  /** 1-based number of the first physical line (continuations start there). */
  readonly line: number;
  /** The logical line: continuations joined, comment removed, trimmed. */
  readonly raw: string;
}

interface NamedEntry extends EntryBase {
  /** PEP 503 normalised name, the key for comparing and diffing. */
  readonly name: string;
  /** The name as written. */
  readonly originalName: string;
  /** Extras, normalised like names (PEP 685). */
  readonly extras: readonly string[];
  /** Environment marker after `;`, as written (validated, not evaluated). */
  readonly marker?: string;
  /** `--hash` values, e.g. "sha256:<hex>". */
  readonly hashes: readonly string[];
}

export type SpecifierOperator = "~=" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "===";

export interface Specifier {
  readonly operator: SpecifierOperator;
  /** As written; a PEP 440 version (with `.*` for ==/!=), or anything for ===. */
  readonly version: string;
}

/** `name==1.0` or `name===1.0`: exactly one version, what a lock contains. */
export interface PinnedRequirement extends NamedEntry {
  readonly kind: "pinned";
  readonly operator: "==" | "===";
  readonly version: string;
}

/** `name`, `name>=1,<2`, `name~=1.4`, `name==1.*`: a range for pip to resolve. */
export interface SpecifierRequirement extends NamedEntry {
  readonly kind: "specifier";
  readonly specifiers: readonly Specifier[];
}

/** `name @ https://...`, `name @ git+https://...`; or a bare URL with `#egg=` or a wheel name. */
export interface UrlRequirement extends NamedEntry {
  readonly kind: "url";
  readonly url: string;
}

/** `-e <path or VCS URL>`; the name is known only from `#egg=`. */
export interface EditableRequirement extends EntryBase {
  readonly kind: "editable";
  /** Path or URL exactly as written, fragment and extras included. */
  readonly target: string;
  readonly name?: string;
  readonly originalName?: string;
  readonly extras: readonly string[];
}

/** A file-level pip option, e.g. `--index-url URL`, `--no-index`, `-r other.txt`. */
export interface OptionEntry extends EntryBase {
  readonly kind: "option";
  /** Long form, even when written short: `-i` -> "--index-url". */
  readonly option: string;
  readonly value?: string;
}

export type RequirementEntry = PinnedRequirement | SpecifierRequirement | UrlRequirement | EditableRequirement | OptionEntry;

export interface RequirementParseError {
  readonly line: number;
  readonly raw: string;
  /** Starts with "line N: ". */
  readonly message: string;
}

export interface ParsedRequirements {
  readonly entries: RequirementEntry[];
  readonly errors: RequirementParseError[];
}

/** PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

const NAME = "[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?";
const NAME_RE = new RegExp(`^${NAME}`);
const FULL_NAME_RE = new RegExp(`^${NAME}$`);
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** `name@url` needs no spaces, and its URL must not make it look like a bare one. */
const NAME_THEN_AT_RE = new RegExp(`^${NAME}\\s*(?:\\[[^\\]]*\\])?\\s*@`);

/** pip's file-level options (req_file.SUPPORTED_OPTIONS); value: whether one follows. */
const FILE_OPTIONS: Record<string, { readonly long: string; readonly value: boolean }> = {};
for (const [long, short, value] of [
  ["--index-url", "-i", true],
  ["--extra-index-url", undefined, true],
  ["--no-index", undefined, false],
  ["--find-links", "-f", true],
  ["--requirement", "-r", true],
  ["--constraint", "-c", true],
  ["--editable", "-e", true],
  ["--trusted-host", undefined, true],
  ["--pre", undefined, false],
  ["--prefer-binary", undefined, false],
  ["--require-hashes", undefined, false],
  ["--only-binary", undefined, true],
  ["--no-binary", undefined, true],
  ["--use-feature", undefined, true],
] as const) {
  FILE_OPTIONS[long] = { long, value };
  if (short) FILE_OPTIONS[short] = { long, value };
}
const REQUIREMENT_OPTIONS: typeof FILE_OPTIONS = { "--hash": { long: "--hash", value: true } };
// pip takes these per requirement too, but they change how a package builds; not supported.
const UNSUPPORTED_REQUIREMENT_OPTIONS = new Set(["--global-option", "--config-settings", "-C", "--install-option"]);

// A Map, as the key is user text ("constructor" must not find Object's).
const HASH_LENGTHS = new Map([
  ["sha256", 64],
  ["sha384", 96],
  ["sha512", 128],
]);

/** Quote for messages; single quotes when the text has double ones (markers do), to avoid escapes. */
const q = (s: string) => (s.includes('"') && !s.includes("'") ? `'${s}'` : JSON.stringify(s));

/** Parse failures carry a message without the line prefix until they are placed. */
class Invalid extends Error {}
function fail(message: string): never {
  throw new Invalid(message);
}

/**
 * Physical lines joined into logical ones the way pip does: a trailing backslash continues
 * (the backslashes are dropped and nothing is inserted), a comment line ends a continuation.
 */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: string[] = [];
  let start = 0;
  text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\r|\n/)
    .forEach((line, i) => {
      const isComment = /^\s*#/.test(line);
      if (!line.endsWith("\\") || isComment) {
        const piece = isComment ? ` ${line}` : line;
        if (pending.length > 0) {
          out.push({ line: start, text: pending.join("") + piece });
          pending = [];
        } else out.push({ line: i + 1, text: piece });
      } else {
        if (pending.length === 0) start = i + 1;
        pending.push(line.replace(/^\\+|\\+$/g, ""));
      }
    });
  if (pending.length > 0) out.push({ line: start, text: pending.join("") });
  return out;
}

export function parseRequirements(text: string): ParsedRequirements {
  const entries: RequirementEntry[] = [];
  const errors: RequirementParseError[] = [];
  for (const { line, text: joined } of logicalLines(text)) {
    // A comment starts at a `#` at the start or after whitespace, so `#egg=` in a URL stays.
    const raw = joined.replace(/(^|\s)#.*$/, "").trim();
    if (raw === "") continue;
    try {
      for (const entry of raw.startsWith("-") ? parseOptionLine(raw) : [parseRequirementLine(raw)]) {
        entries.push({ line, raw, ...entry } as RequirementEntry);
      }
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      errors.push({ line, raw, message: `line ${line}: ${e.message}` });
    }
  }
  return { entries, errors };
}

type Unplaced<T> = T extends EntryBase ? Omit<T, "line" | "raw"> : never;
type ParsedOption = { readonly option: string; readonly value?: string };

/** optparse-style: `--opt=value`, `--opt value`, `-ovalue`, `-o value`. */
function readOptions(tokens: readonly string[], table: typeof FILE_OPTIONS, where: string): ParsedOption[] {
  const out: ParsedOption[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith("-")) fail(`unexpected ${q(token)} ${where}`);
    const long = token.startsWith("--");
    const eq = token.indexOf("=");
    const name = long ? (eq < 0 ? token : token.slice(0, eq)) : token.slice(0, 2);
    const inline = long ? (eq < 0 ? undefined : token.slice(eq + 1)) : token.length > 2 ? token.slice(2) : undefined;
    const spec = table[name];
    if (!spec) {
      if (table === FILE_OPTIONS && name === "--hash") {
        // Usually a hash list where one line lost its trailing backslash.
        fail(
          i === 0
            ? `${q(token)} is not attached to a requirement; end the line before it with "\\" to continue it`
            : `--hash can only follow a requirement like name==1.0`,
        );
      }
      if (UNSUPPORTED_REQUIREMENT_OPTIONS.has(name)) fail(`${name} on a requirement line is not supported`);
      fail(`unknown option ${q(name)} ${where}`);
    }
    const value = spec.value ? (inline ?? tokens[++i]) : undefined;
    if (spec.value && (value === undefined || value === "")) fail(`${name} needs a value`);
    if (!spec.value && inline !== undefined) fail(`${name} takes no value`);
    out.push(value === undefined ? { option: spec.long } : { option: spec.long, value });
  }
  return out;
}

function parseOptionLine(raw: string): Unplaced<OptionEntry | EditableRequirement>[] {
  const options = readOptions(raw.split(/\s+/), FILE_OPTIONS, `in option line ${q(raw)}`);
  if (!options.some((o) => o.option === "--editable")) return options.map((o) => ({ kind: "option", ...o }));
  if (options.length > 1) fail(`-e takes one path or URL and nothing else on its line: ${q(raw)}`);
  return [parseEditable(options[0]!.value!)];
}

function parseEditable(target: string): Unplaced<EditableRequirement> {
  const bad = (why: string) => fail(`"-e ${target}" is not a valid editable requirement: ${why}`);
  const isUrl = SCHEME_RE.test(target) && !/^[A-Za-z]:[\\/]/.test(target);
  if (isUrl && !/^(git|hg|svn|bzr)\+/i.test(target) && !/^file:/i.test(target)) {
    bad("an editable URL must be a VCS URL (git+, hg+, svn+, bzr+) or a file: URL");
  }
  const egg = /[#&]egg=([^&]*)/.exec(target)?.[1];
  const named = egg !== undefined ? nameAndExtras(egg, (why) => bad(`#egg=${egg}: ${why}`)) : undefined;
  if (named && named.rest !== "") bad(`#egg= must be a package name, not ${q(egg!)}`);
  // A local path may carry extras: `-e ./pkg[dev]`.
  const pathExtras = !isUrl ? /\[([^\]]*)\]$/.exec(target)?.[1] : undefined;
  const extras = named?.extras ?? (pathExtras !== undefined ? parseExtras(pathExtras, bad) : []);
  return {
    kind: "editable",
    target,
    ...(named && { name: normalizeName(named.name), originalName: named.name }),
    extras,
  };
}

function parseExtras(inner: string, bad: (why: string) => never): string[] {
  if (inner.trim() === "") return [];
  return inner.split(",").map((extra) => {
    const e = extra.trim();
    if (!FULL_NAME_RE.test(e)) bad(`extra ${q(e)} is not a valid name`);
    return normalizeName(e);
  });
}

/** Leading `name[extras]`; returns what follows, untrimmed. */
function nameAndExtras(s: string, bad: (why: string) => never): { name: string; extras: string[]; rest: string } {
  const name = NAME_RE.exec(s)?.[0];
  if (name === undefined) return bad("it must start with a package name");
  let rest = s.slice(name.length);
  let extras: string[] = [];
  if (rest.trimStart().startsWith("[")) {
    rest = rest.trimStart();
    const close = rest.indexOf("]");
    if (close < 0) bad(`missing "]" after the extras`);
    extras = parseExtras(rest.slice(1, close), bad);
    rest = rest.slice(close + 1);
  }
  return { name, extras, rest };
}

/** Paths, URLs and archive names: pip installs them directly, without a name up front. */
function looksLikeUrlOrPath(first: string): boolean {
  return SCHEME_RE.test(first) || /^[.~/\\]/.test(first) || /[/\\]/.test(first) || /\.(whl|zip|tar|tgz|tar\.(gz|bz2|xz))$/i.test(first);
}

function parseRequirementLine(raw: string): Unplaced<PinnedRequirement | SpecifierRequirement | UrlRequirement> {
  // pip: options begin at the first space-separated token that starts with "-".
  const optionAt = raw.search(/\s-/);
  const args = optionAt < 0 ? raw : raw.slice(0, optionAt).trimEnd();
  const optionTokens = optionAt < 0 ? [] : raw.slice(optionAt).trim().split(/\s+/);
  const bad = (why: string) => fail(`${q(args)} is not a valid requirement: ${why}`);
  const hashes = readOptions(optionTokens, REQUIREMENT_OPTIONS, `after requirement ${q(args)} (only --hash may follow one)`).map((o) => {
    const colon = o.value!.indexOf(":");
    const length = HASH_LENGTHS.get(o.value!.slice(0, colon));
    // pip compares lowercase hexdigests, so an uppercase digest would never match.
    if (colon < 0 || length === undefined || !new RegExp(`^[0-9a-f]{${length}}$`).test(o.value!.slice(colon + 1))) {
      fail(`--hash=${o.value} is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest`);
    }
    return o.value!;
  });

  if (!NAME_THEN_AT_RE.test(args) && looksLikeUrlOrPath(args.split(/\s/)[0]!)) return { kind: "url", hashes, ...bareUrl(args, bad) };

  const { name, extras, rest } = nameAndExtras(args, bad);
  const named = { name: normalizeName(name), originalName: name, extras, hashes };
  const afterName = rest.trimStart();
  if (afterName.startsWith("@")) {
    // PEP 508: the URL runs to whitespace, and a marker needs whitespace before its ";".
    const [, url = "", after = ""] = /^@\s*(\S*)(.*)$/.exec(afterName) ?? [];
    if (url === "") bad(`expected a URL after "@"`);
    if (!SCHEME_RE.test(url)) bad(`${q(url)} is not a URL (it needs a scheme such as https://, file:// or git+https://)`);
    const marker = markerAfterUrl(after, bad);
    return { kind: "url", ...named, url, ...(marker !== undefined && { marker }) };
  }

  const semi = rest.indexOf(";");
  const marker = semi < 0 ? undefined : checkMarker(rest.slice(semi + 1), bad);
  let specText = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  if (specText.startsWith("(")) {
    if (!specText.endsWith(")")) bad(`missing ")" after the version specifiers`);
    specText = specText.slice(1, -1).trim();
  }
  const specifiers = specText === "" ? [] : specText.split(",").map((part) => parseSpecifier(part.trim(), bad));
  const withMarker = { ...named, ...(marker !== undefined && { marker }) };
  const only = specifiers.length === 1 ? specifiers[0]! : undefined;
  if (only && (only.operator === "===" || (only.operator === "==" && !only.version.endsWith(".*")))) {
    return { kind: "pinned", ...withMarker, operator: only.operator, version: only.version };
  }
  return { kind: "specifier", ...withMarker, specifiers };
}

function markerAfterUrl(after: string, bad: (why: string) => never): string | undefined {
  if (after.trim() === "") return undefined;
  if (!/^\s+;/.test(after)) bad(`unexpected ${q(after.trim())} after the URL (a marker needs " ; " before it)`);
  return checkMarker(after.slice(after.indexOf(";") + 1), bad);
}

/** A URL or path with no `name @`: the name must come from `#egg=` or a wheel file name. */
function bareUrl(args: string, bad: (why: string) => never): { name: string; originalName: string; extras: string[]; url: string; marker?: string } {
  const [, url = "", after = ""] = /^(\S+)(.*)$/.exec(args) ?? [];
  // Bare paths are valid to pip, but carry no name to key a lock or a diff by.
  if (!SCHEME_RE.test(url) || /^[A-Za-z]:[\\/]/.test(url)) return bad(`a bare path has no package name; write it as "name @ file:///absolute/path"`);
  const egg = /[#&]egg=([^&]*)/.exec(url)?.[1];
  const wheel = /\/([A-Za-z0-9_.]+)-[^-/]+(?:-[^-/]+)?-[^-/]+-[^-/]+-[^-/]+\.whl(?:[#?].*)?$/.exec(url)?.[1];
  const parsed = egg !== undefined ? nameAndExtras(egg, (why) => bad(`#egg=${egg}: ${why}`)) : undefined;
  if (parsed && parsed.rest !== "") bad(`#egg= must be a package name, not ${q(egg!)}`);
  const name = parsed?.name ?? wheel;
  if (name === undefined) return bad(`a URL needs a package name: write "name @ ${url}"`);
  const marker = markerAfterUrl(after, bad);
  return { name: normalizeName(name), originalName: name, extras: parsed?.extras ?? [], url, ...(marker !== undefined && { marker }) };
}

const OPERATORS: readonly SpecifierOperator[] = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];
const TYPOS: Record<string, string> = { "=>": ">=", "=<": "<=", "=": "==", "<>": "!=", "=~": "~=", "!": "!=", "~": "~=", "====": "===" };

function parseSpecifier(part: string, bad: (why: string) => never): Specifier {
  const opText = /^[<>=!~]*/.exec(part)![0];
  const operator = OPERATORS.find((op) => op === opText);
  if (part === "") bad("empty version specifier (stray comma?)");
  if (opText === "") bad(`expected a version specifier like ">=1.0" but found ${q(part)}`);
  if (!operator) bad(`${q(opText)} is not a version operator${TYPOS[opText] ? `; did you mean ${q(TYPOS[opText]!)}?` : ""}`);
  const version = part.slice(opText.length).trim();
  const problem = specifierProblem(operator!, version);
  if (problem) bad(problem);
  return { operator: operator!, version };
}

function specifierProblem(op: SpecifierOperator, version: string): string | undefined {
  if (version === "") return `${q(op)} needs a version after it`;
  if (/[\s()]/.test(version)) return `${q(version)} is not a version`;
  if (op === "===") return undefined; // arbitrary equality: any string, compared as text
  if (version.endsWith(".*")) {
    if (op !== "==" && op !== "!=") return `a ".*" wildcard is only allowed with == and !=`;
    return /^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*\.\*$/i.test(version) ? undefined : `${q(version)}: ".*" must follow a plain release, like "1.2.*"`;
  }
  const v = parseVersion(version);
  if (!v) return `${q(version)} is not a valid PEP 440 version`;
  if (v.local && op !== "==" && op !== "!=") return `a local version label (${q(version)}) is only allowed with == and !=`;
  if (op === "~=" && v.release.length < 2) return `"~=" needs at least two release segments, like "~=1.4"`;
  return undefined;
}

const MARKER_VARIABLES = new Set([
  "python_version", "python_full_version", "os_name", "sys_platform", "platform_release", "platform_system",
  "platform_version", "platform_machine", "platform_python_implementation", "implementation_name",
  "implementation_version", "extra", "extras", "dependency_groups",
  // Legacy spellings packaging still accepts.
  "os.name", "sys.platform", "platform.version", "platform.machine", "platform.python_implementation", "python_implementation",
]);

/**
 * Check PEP 508 marker syntax (not its value: that depends on the host's Python), so a
 * typo fails here rather than in pip on the host. Returns the marker trimmed.
 */
function checkMarker(text: string, bad: (why: string) => never): string {
  const marker = text.trim();
  const tokens = marker.match(/\s+|[()]|'[^']*'?|"[^"]*"?|===|==|!=|<=|>=|~=|<|>|[A-Za-z_][A-Za-z0-9_.]*|./g) ?? [];
  const toks = tokens.filter((t) => !/^\s+$/.test(t));
  let i = 0;
  const badMarker = (why: string) => bad(`marker ${q(marker)}: ${why}`);
  const value = () => {
    const t = toks[i++];
    if (t === undefined) badMarker("it ends too soon");
    else if (/^['"]/.test(t)) {
      if (t.length < 2 || t[t.length - 1] !== t[0]) badMarker(`unterminated string ${t}`);
    } else if (!MARKER_VARIABLES.has(t)) badMarker(`${q(t)} is not a marker variable or a quoted string`);
  };
  const atom = (): void => {
    if (toks[i] === "(") {
      i++;
      or();
      if (toks[i++] !== ")") badMarker(`missing ")"`);
      return;
    }
    value();
    const op = toks[i++];
    if (op === "not" && toks[i] === "in") i++;
    else if (op === undefined || !["===", "==", "!=", "<=", ">=", "~=", "<", ">", "in"].includes(op)) {
      badMarker(op === undefined ? "expected a comparison" : `${q(op)} is not a marker operator`);
    }
    value();
  };
  const and = () => {
    atom();
    while (toks[i] === "and") {
      i++;
      atom();
    }
  };
  const or = () => {
    and();
    while (toks[i] === "or") {
      i++;
      and();
    }
  };
  if (toks.length === 0) badMarker("empty marker after \";\"");
  or();
  if (i < toks.length) badMarker(`unexpected ${q(toks[i]!)}`);
  return marker;
}

const extrasText = (extras: readonly string[]) => (extras.length > 0 ? `[${extras.join(",")}]` : "");

/** One line per entry (hashes on continuation lines, as pip-compile writes them). */
export function renderRequirements(entries: readonly RequirementEntry[]): string {
  return entries
    .map((e) => {
      switch (e.kind) {
        case "option":
          return e.value === undefined ? e.option : `${e.option} ${e.value}`;
        case "editable":
          return `-e ${e.target}`;
      }
      const head = `${e.originalName}${extrasText(e.extras)}`;
      const req =
        e.kind === "url"
          ? `${head} @ ${e.url}`
          : e.kind === "pinned"
            ? `${head}${e.operator}${e.version}`
            : `${head}${e.specifiers.map((s) => `${s.operator}${s.version}`).join(",")}`;
      const withMarker = e.marker === undefined ? req : `${req} ; ${e.marker}`;
      return [withMarker, ...e.hashes.map((h) => `--hash=${h}`)].join(" \\\n    ");
    })
    .map((line) => `${line}\n`)
    .join("");
}

/**
 * What a lock installs, for plans: normalised name -> pinned version, or "@ <url>" for URL
 * and editable entries (an editable without `#egg=` is keyed by its target). Sorted by name;
 * if a name repeats (e.g. under different markers) the last entry wins.
 */
export function packagesFromEntries(entries: readonly RequirementEntry[]): Record<string, string> {
  const found = new Map<string, string>();
  for (const e of entries) {
    if (e.kind === "pinned") found.set(e.name, e.version);
    else if (e.kind === "url") found.set(e.name, `@ ${e.url}`);
    else if (e.kind === "editable") found.set(e.name ?? e.target, `@ ${e.target}`);
  }
  return Object.fromEntries([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The readable requirement lines a plan shows: trimmed, without blanks and comments. */
export function requirementLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
