import { z } from "zod";
import { redactUrls } from "./redact";

/**
 * Turns zod issues into lines that name the field, the value and what is allowed, e.g.
 * `mount "app" must start with "/"`. Construct code prefixes them with its path.
 */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join(".") || "props";
    if (issue.code === "unrecognized_keys") {
      return `${field === "props" ? "" : field + ": "}unknown prop(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    const value = valueAt(input, issue.path);
    if (value === undefined) return `${field} is required (${issue.message})`;
    return `${field} ${shown(value)} ${issue.message}`;
  });
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

/** Characters that are never accepted in names that reach a shell, Apache or Python. */
const HOSTILE = /[\s'"`$;&|<>\\(){}*?!#~\0]/;

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

export const pythonModule = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
  message: 'must be "module:callable" with a dotted Python module name and a Python identifier, e.g. "app:app"',
});

export const entry = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/, {
  message: 'must be "module:callable" with a dotted Python module name and a Python identifier, e.g. "app:app"',
});

export const urlPath = z
  .string()
  .startsWith("/", { message: 'must start with "/"' })
  .regex(/^\/[A-Za-z0-9._~\/-]*$/, { message: "may only contain letters, digits and . _ ~ / -" })
  .refine((p) => p === "/" || !p.endsWith("/"), { message: 'must not end with "/" (except "/" itself)' })
  .refine((p) => !p.split("/").includes(".."), { message: 'must not contain ".."' });

export const safeName = z
  .string()
  .min(1)
  .refine((v) => !HOSTILE.test(v), { message: "must not contain spaces, quotes, or shell characters" });

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
