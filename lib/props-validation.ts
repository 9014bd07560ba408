import { z } from "zod";
import { redactUrls } from "./redact";
import { plural } from "./plural";

/**
 * Turns zod issues into lines that name the field, the value and what is allowed, e.g.
 * `mount "app" must start with "/"`. Construct code prefixes them with its path. Only the
 * first problem of each field is reported: a second one ("may only contain ...") about the
 * same value is usually a consequence of the first and reads like a contradiction.
 */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  const reported = new Set<string>();
  const lines: string[] = [];
  for (const issue of error.issues) {
    const key = (issue.code === "unrecognized_keys" ? "keys:" : "field:") + JSON.stringify(issue.path.map(String));
    if (reported.has(key)) continue;
    reported.add(key);
    lines.push(describeIssue(issue, issue.path, input));
  }
  return lines;
}

type Issue = z.core.$ZodIssue;
const zodDefaults = z.locales.en();

/** zod's own English text for an issue: the text we replace with plain words. */
function isZodDefault(issue: Issue, value: unknown): boolean {
  const text = zodDefaults.localeError({ ...issue, input: value } as unknown as z.core.$ZodRawIssue);
  const message = typeof text === "string" ? text : text?.message;
  // zod's English texts all start so; ours never do (the input in a nested issue may differ).
  return message === issue.message || /^(Invalid|Too (small|big)|Unrecognized key)/.test(issue.message);
}

function fieldName(at: readonly PropertyKey[]): string {
  return at.map(String).join(".") || "props";
}

function describeIssue(issue: Issue, at: readonly PropertyKey[], input: unknown): string {
  const field = fieldName(at);
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${field === "props" ? "" : field + ": "}unknown ${issue.keys.length === 1 ? "prop" : "props"} ${names}`;
  }
  if (issue.code === "invalid_key") {
    // The path ends with the rejected key itself; describe the key as a value of the parent.
    const parent = at.slice(0, -1);
    const key = at[at.length - 1];
    const first = issue.issues[0];
    const why = first === undefined ? "is not an accepted key" : whatIsWrong(first, key);
    return `${fieldName(parent)} key ${shown(key)} ${why}`;
  }
  const value = valueAt(input, at);
  if (value === undefined) return `${field} is required (${issue.code === "invalid_type" ? `it must be ${typeName(issue.expected)}` : whatIsWrong(issue, value)})`;
  // Our own "(got the string "22")" already shows the value.
  if (issue.code === "invalid_type" && isZodDefault(issue, value)) return `${field} ${whatIsWrong(issue, value)}`;
  return `${field} ${shown(value)} ${whatIsWrong(issue, value)}`;
}

/** The plain-words predicate for one issue, e.g. `must be a number (got the string "22")`. */
function whatIsWrong(issue: Issue, value: unknown): string {
  if (!isZodDefault(issue, value)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return `must be ${typeName(issue.expected)} (got ${received(value)})`;
    case "too_small":
      return sizeRule(issue.origin, "at least", issue.minimum, issue.inclusive !== false, issue.exact === true);
    case "too_big":
      return sizeRule(issue.origin, "at most", issue.maximum, issue.inclusive !== false, issue.exact === true);
    case "invalid_format": {
      const f = issue as z.core.$ZodStringFormatIssues;
      switch (f.format) {
        case "starts_with":
          return `must start with ${JSON.stringify(f.prefix)}`;
        case "ends_with":
          return `must end with ${JSON.stringify(f.suffix)}`;
        case "includes":
          return `must contain ${JSON.stringify(f.includes)}`;
        case "regex":
          return `must match the pattern ${f.pattern}`;
        default:
          return `must be a valid ${f.format.replace(/_/g, " ")}`;
      }
    }
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${shown(issue.values[0])}` : `must be one of ${issue.values.map(shown).join(", ")}`;
    case "invalid_union":
      if (issue.inclusive === false) return "matches more than one of the accepted forms; make it match exactly one";
      if (issue.options !== undefined && issue.options.length > 0) return `must be one of ${issue.options.map(shown).join(", ")}`;
      return `is none of the accepted forms: ${acceptedForms(issue.errors, value)}`;
    case "invalid_element": {
      const first = issue.issues[0];
      return `has an element ${shown(issue.key)} that ${first === undefined ? "is not accepted" : whatIsWrong(first, issue.key)}`;
    }
    case "invalid_key": {
      const first = issue.issues[0];
      return `has a key that ${first === undefined ? "is not accepted" : whatIsWrong(first, undefined)}`;
    }
    case "unrecognized_keys":
      return `has unknown ${issue.keys.length === 1 ? "key" : "keys"} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "custom":
      return "is not accepted here";
  }
  return "is not accepted here";
}

/** A union's branches as "a string, or a number". */
function acceptedForms(branches: readonly (readonly Issue[])[], value: unknown): string {
  const forms = branches.map((issues) => {
    const top = issues.find((i) => i.path.length === 0);
    return top === undefined ? "an object of another shape" : top.code === "invalid_type" ? typeName(top.expected) : whatIsWrong(top, value).replace(/^must be /, "");
  });
  return [...new Set(forms)].join(", or ");
}

function sizeRule(origin: string, bound: "at least" | "at most", limit: number | bigint, inclusive: boolean, exact: boolean): string {
  const n = Number(limit);
  const unit = origin === "string" ? "character" : origin === "array" || origin === "set" || origin === "map" ? "item" : origin === "file" ? "byte" : undefined;
  if (unit !== undefined) {
    if (exact) return `must have exactly ${plural(n, unit)}`;
    if (origin === "string" && bound === "at least" && n === 1 && inclusive) return "must not be empty";
    const count = inclusive ? n : bound === "at least" ? n + 1 : n - 1;
    return `must have ${bound} ${plural(count, unit)}`;
  }
  if (origin === "date") return `must be ${bound === "at least" ? "on or after" : "on or before"} ${new Date(n).toISOString()}`;
  if (exact) return `must be exactly ${limit}`;
  if (inclusive) return `must be ${bound} ${limit}`;
  return `must be ${bound === "at least" ? "greater" : "less"} than ${limit}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  bigint: "a bigint",
  symbol: "a symbol",
  undefined: "left out",
  null: "null",
  never: "left out",
  void: "left out",
  date: "a Date",
  array: "a list (array)",
  object: "an object",
  tuple: "a list (array)",
  record: "an object",
  map: "a Map",
  set: "a Set",
  file: "a File",
  nonoptional: "set",
  nan: "NaN",
  function: "a function",
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? `a ${expected}`;
}

/** The value a user passed, described: `the string "22"`, `the number 5`, `a list`. */
function received(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${shown(value)}`;
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `the bigint ${value}`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `a list (${shown(value)})`;
  if (value instanceof Date) return "a Date";
  if (value instanceof Map) return "a Map";
  if (value instanceof Set) return "a Set";
  return `an object (${shown(value)})`;
}

function valueAt(input: unknown, at: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of at) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Credentials in a URL (`//user:pass@`) never reach a message: lib/redact.ts's one function. */
export const redact = redactUrls;

function shown(value: unknown): string {
  if (typeof value === "string") return redact(JSON.stringify(value));
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  try {
    const text = redact(JSON.stringify(value));
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  } catch {
    return String(value);
  }
}

/** Validate or return the problems as lines. */
export function check<T extends z.ZodType>(schema: T, input: unknown): { ok: true; value: z.infer<T> } | { ok: false; problems: string[] } {
  const result = schema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, problems: describeIssues(result.error, input) };
}

// Building blocks with messages that say what is allowed.

export const hostName = z
  .string()
  .regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$|^[0-9A-Fa-f:.]+$/, {
    message: "must be a DNS name or an IP address (letters, digits, '.', '-', ':')",
  });

export const userName = z
  .string()
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, { message: "must be a POSIX user name (lowercase letters, digits, '_', '.', '-'; at most 32)" });

export const port = z.number().int({ message: "must be a whole number" }).min(1, { message: "must be 1-65535" }).max(65535, {
  message: "must be 1-65535",
});

export const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
  message: `must be an SSH host key fingerprint as 'ssh-keygen -lf' prints it ("SHA256:" + 43 base64 characters), or HOST_KEY_INSECURE_ACCEPT_ANY`,
});

export const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be an environment variable NAME (letters, digits, '_')" });

export const absolutePath = z
  .string()
  .regex(/^\/[^\0\r\n"\\]*$/, { message: "must be an absolute path without quotes, backslashes or line breaks" });

/** A path on the host, relative to its home (or absolute inside it); checked again against the home. */
export const remotePath = z
  .string()
  .min(1, { message: "must not be empty" })
  .refine((p) => !/[\0\r\n"\\]/.test(p), { message: "must not contain quotes, backslashes or line breaks" });

export const localPath = z
  .string()
  .min(1, { message: "must not be empty" })
  .refine((p) => !/[\0\r\n]/.test(p), { message: "must not contain line breaks" });

export const entry = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/, {
  message: 'must be "module:callable" with a dotted Python module name and a Python identifier, e.g. "app:app"',
});

export const urlPath = z
  .string()
  .startsWith("/", { message: 'must start with "/"' })
  .regex(/^\/[A-Za-z0-9._~\/-]*$/, { message: "may only contain letters, digits and . _ ~ / -" })
  .refine((p) => p === "/" || !p.endsWith("/"), { message: 'must not end with "/" (except "/" itself)' })
  .refine((p) => !p.split("/").includes(".."), { message: 'must not contain ".."' });

export const httpUrl = z.string().refine(
  (u) => {
    try {
      const parsed = new URL(u);
      return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.username === "" && parsed.password === "";
    } catch {
      return false;
    }
  },
  { message: "must be an http(s) URL without credentials in it" },
);

export const indexUrl = z.string().refine(
  (u) => {
    try {
      const parsed = new URL(u);
      return parsed.username === "" && parsed.password === "";
    } catch {
      return false;
    }
  },
  {
    message:
      "must be a URL without user:password (credentials would be stored in the Terraform state); configure credentials on the host with pip's netrc or keyring instead",
  },
);

export const environmentVariables = z.record(envVarName, z.string().refine((v) => !v.includes("\0"), { message: "must not contain NUL" }));

/**
 * Release commands: a list of argv lists run in order on the host (WsgiApp `releaseCommands`,
 * webshare.json `releaseCommands`). Each argv is passed to `env` after the app's environment
 * assignments, so its program may not look like an assignment (`NAME=value`).
 */
export const releaseCommands = z.array(
  z
    .array(z.string().refine((a) => !a.includes("\0"), { message: "must not contain NUL" }), { message: 'must be an argv list, e.g. ["python", "manage.py", "migrate", "--noinput"]' })
    .min(1, { message: 'must be a non-empty argv list, e.g. ["python", "manage.py", "migrate", "--noinput"]' })
    .refine((argv) => argv[0] !== "" && !argv[0].includes("="), { message: "must start with a program name (not empty, no '=')" }),
  { message: 'must be a list of argv lists, e.g. [["python", "manage.py", "migrate", "--noinput"]]' },
);
