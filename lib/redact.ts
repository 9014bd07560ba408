/**
 * Credentials in URLs (`scheme://user:password@host`, `git+https://oauth2:TOKEN@host`) never
 * reach a message, a plan or the state. `redactUrls` is the ONE function that masks them in
 * text: every WebshareError passes its message, hint and detail through it, so no error can
 * print one. `urlCredentials` finds them, so synth can refuse them before they are stored.
 * Pure: text in, text or data out.
 */

/**
 * `//` then an authority up to its LAST `@` (a password may hold `@`, and URL parsers split
 * at the last one), stopping at what ends an authority or a URL in text.
 */
const USERINFO = /\/\/[^/?#\s"'<>`]*@/g;

/** Replace the userinfo of every URL in `text` with `***`: `https://***@host/...`. */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, "//***@");
}

/** A URL in some text whose authority carries userinfo (shown redacted). */
export interface UrlCredential {
  /** The URL with its userinfo replaced by `***`. */
  readonly redacted: string;
  /** Whether a password (`user:password@`) is present, not just a user name. */
  readonly hasPassword: boolean;
  /** The URL's scheme, lowercase, e.g. "https" or "git+ssh". */
  readonly scheme: string;
}

const URL_WITH_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#\s"'<>`]*)@[^\s"'<>`]*/g;

/** Every URL with userinfo in `text`, in order. */
function urlCredentials(text: string): UrlCredential[] {
  return [...text.matchAll(URL_WITH_USERINFO)].map((m) => ({
    redacted: redactUrls(m[0]),
    hasPassword: m[2]!.includes(":"),
    scheme: m[1]!.toLowerCase(),
  }));
}

/**
 * URLs whose userinfo is a secret: any password, or a bare user name over anything but SSH
 * (`https://TOKEN@host` is a token; `git+ssh://git@host` is the account SSH logs in as, and
 * SSH authenticates with a key).
 */
export function secretUrlCredentials(text: string): UrlCredential[] {
  return urlCredentials(text).filter((c) => c.hasPassword || !/(^|\+)ssh$/.test(c.scheme));
}

/** Why text with secret URL credentials is refused, and what to do instead. */
const URL_CREDENTIALS_REFUSED =
  "must not contain a URL with credentials (user:password@ or a token before @): they would be stored in the synthesized JSON, the plan and the Terraform state; configure them on the host with pip's netrc or keyring, or pass secrets with secretEnvironment, secretFiles or databaseYml (read at apply, never stored)";

/**
 * Problems for every string under `value` (plain objects and arrays, walked by field name)
 * that holds secret URL credentials, e.g. `environment.DATABASE_URL "postgres://***@db/x" must not ...`.
 */
export function urlCredentialProblems(value: unknown, field = ""): string[] {
  if (typeof value === "string") {
    return secretUrlCredentials(value).map((c) => `${field || "value"} ${JSON.stringify(c.redacted)} ${URL_CREDENTIALS_REFUSED}`);
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => urlCredentialProblems(item, `${field}[${i}]`));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([key, item]) => urlCredentialProblems(item, field === "" ? key : `${field}.${key}`));
  }
  return [];
}

/**
 * Problems for requirement or lock file text: every line (comments too, since raw lines
 * reach the spec) that holds secret URL credentials, e.g.
 * `line 3: "git+https://***@host/x.git" must not ...`. Lines continued with a trailing
 * backslash are joined first, as pip joins them, so a URL split over lines is found too.
 */
export function requirementCredentialProblems(text: string): string[] {
  const problems: string[] = [];
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let logical = physical[i]!;
    while (/\\$/.test(logical) && i + 1 < physical.length) logical = logical.replace(/\\+$/, "") + physical[++i]!.replace(/^\\+/, "");
    for (const c of secretUrlCredentials(logical)) problems.push(`line ${start + 1}: ${JSON.stringify(c.redacted)} ${URL_CREDENTIALS_REFUSED}`);
  }
  return problems;
}
