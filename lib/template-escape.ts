/**
 * User text in synthesized Terraform JSON, written so that it stays text (pure).
 *
 * Terraform/OpenTofu read every JSON string, object keys included, as a template: `${...}`
 * is evaluated and `%{...}` is a directive. A file named `${file("../db.yml")}` would pull
 * another file into the plan. Terraform's escapes for a literal `${` / `%{` are `$${` /
 * `%%{`.
 *
 * cdktf reads the same strings before Terraform does, twice per synth, and treats three
 * shapes as its own tokens: `${TfToken[..]}`, `#{TfToken[..]}`, `&{TfToken[..]}` (unknown
 * ones fail the synth, known ones are substituted), and a number whose double value carries
 * its token bit pattern (e.g. `-8.15e298`). Those are spelled with a constant interpolation
 * the engine folds back: the `T` of `{TfToken[` as `${"T"}`, the exponent `e` as `${"e"}`.
 * Each one follows a character other than `$` and `%`, so it never reads as an escape.
 *
 * The engine also turns every string into Unicode NFC (cty strings are NFC), which no escape
 * can prevent, so text that is not NFC is refused at synth ({@link nonNfcStrings}).
 */

/** cdktf's number-token pattern (cdktf/lib/tokens/private/encoding.js, NUMBER_TOKEN_REGEX). */
const CDKTF_NUMBER = /[-|\d|.\+]+(e[-|\d|.|e|E|\+]+)/g;
const FOLDED_T = '${"T"}';
const FOLDED_E = '${"e"}';

/** True if cdktf would decode `text` as a number token (top 16 bits 0xfdff, little endian as cdktf assumes). */
function isCdktfNumberToken(text: string): boolean {
  const bits = new Uint32Array(new Float64Array([parseFloat(text)]).buffer);
  return bits[1]! >>> 16 === 0xfdff;
}

/** One string as a Terraform template that evaluates to exactly `text`, and that cdktf leaves alone. */
export function escapeTemplate(text: string): string {
  let out = text.replace(/([$%])\{/g, "$1$1{").replace(/\{TfToken\[/g, `{${FOLDED_T}fToken[`);
  for (;;) {
    const hit = [...out.matchAll(CDKTF_NUMBER)].find((m) => isCdktfNumberToken(m[0]));
    if (hit === undefined) return out;
    const e = hit.index + hit[0].length - hit[1]!.length;
    out = out.slice(0, e) + FOLDED_E + out.slice(e + 1);
  }
}

/** Thrown when a string holds a real template sequence: it is an expression, not escaped text. */
export class TemplateExpressionError extends Error {}

const SEQUENCE = /\$\$\{|%%\{|\$\{"([Te])"\}|[$%]\{/g;

/** The text an escaped string evaluates to; the inverse of {@link escapeTemplate}. */
export function unescapeTemplate(text: string): string {
  return text.replace(SEQUENCE, (match: string, folded: string | undefined, at: number) => {
    if (folded !== undefined) return folded;
    if (match.length === 3) return match.slice(1);
    throw new TemplateExpressionError(`${JSON.stringify(text)} has a template sequence at ${at}: it is an expression, not escaped text`);
  });
}

/** Maps every string in plain JSON-like data, object keys included; other values are kept. */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [f(k), mapStrings(v, f)]));
  }
  return value;
}

/** A JSON string with non-ASCII as `\uXXXX`: the two forms look alike on a terminal. */
const visible = (s: string) => JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * Problems for every string (key or value) of `value` that is not in Unicode NFC: the engine
 * would hand the provisioner other bytes (e.g. a decomposed file name no longer names the file).
 */
export function nonNfcStrings(value: unknown): string[] {
  const problems: string[] = [];
  mapStrings(value, (s) => {
    if (s !== s.normalize("NFC")) problems.push(`${visible(s)} is not in Unicode NFC (Terraform and OpenTofu store it as ${visible(s.normalize("NFC"))}); rename it or write it composed`);
    return s;
  });
  return problems;
}

/** {@link escapeTemplate} on every string and key of `value`, recursively. */
export function escapeTemplates<T>(value: T): T {
  return mapStrings(value, escapeTemplate) as T;
}

/** {@link unescapeTemplate} on every string and key of `value`, recursively. */
export function unescapeTemplates(value: unknown): unknown {
  return mapStrings(value, unescapeTemplate);
}
