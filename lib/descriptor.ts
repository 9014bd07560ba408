import { z } from "zod";
import * as fs from "node:fs";
import * as path from "node:path";
import * as v from "./props-validation";

/**
 * The portable app descriptor, `webshare.json` in an app's directory: one versioned file
 * that says how to run the app (entry point, static dirs, requirements, Python, health path,
 * settings) so any host can read it. `parseDescriptor` is pure; `readDescriptor` does I/O.
 */
export const DESCRIPTOR_FILE = "webshare.json";
const DESCRIPTOR_VERSIONS = [1] as const;

const descriptorV1 = z
  .object({
    $schema: z.string().optional().describe("Path or URL of this file's JSON Schema, for editors."),
    version: z.literal(1).describe("Descriptor format version."),
    entry: v.entry.describe('WSGI callable as "module:callable", e.g. "app:app".'),
    staticDirs: z.record(v.urlPath, v.remotePath).optional().describe('URL path -> directory in the app served by Apache, e.g. { "/static": "static" }.'),
    requirements: v.localPath.optional().describe("Loose requirements file, relative to the app directory."),
    lock: v.localPath.optional().describe("Pinned lock file (pip freeze format), relative to the app directory; what gets installed."),
    python: z.string().regex(/^3\.\d+$/, { message: 'must be a Python version "3.X"' }).optional().describe('Python version the app needs, "3.X"; the deploy refuses a host whose mod_wsgi Python differs.'),
    healthPath: v.urlPath.optional().describe("Path under the app's URL that answers 200 when the app works, e.g. /health."),
    env: z.array(v.envVarName).optional().describe("NAMES of non-secret environment variables passed to the app; values come from the deploying environment."),
    releaseCommands: v.releaseCommands
      .optional()
      .describe(
        'Commands run in the new release before it serves, in order, each an argv list, e.g. [["python", "manage.py", "migrate", "--noinput"]]; "python" is the venv\'s interpreter. A failure keeps the old release serving.',
      ),
  })
  .strict()
  .refine((d) => d.requirements !== undefined || d.lock !== undefined, { message: "needs requirements, lock, or both", path: ["requirements"] });
export type DescriptorV1 = z.infer<typeof descriptorV1>;

export type ParsedDescriptor = { ok: true; descriptor: DescriptorV1 } | { ok: false; problems: string[] };

/** Validate descriptor JSON text; problems name the field, the value and what is allowed. */
export function parseDescriptor(text: string, file = DESCRIPTOR_FILE): ParsedDescriptor {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`${file} is not valid JSON: ${(e as Error).message}`] };
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, problems: [`${file} must hold a JSON object`] };
  if (version === undefined) return { ok: false, problems: [`${file} has no "version"; add "version": 1`] };
  if (!(DESCRIPTOR_VERSIONS as readonly unknown[]).includes(version)) {
    return {
      ok: false,
      problems: [`${file} has version ${JSON.stringify(version)}, which this webshare-cdktf does not know (it reads version ${DESCRIPTOR_VERSIONS.join(", ")}); upgrade webshare-cdktf or write a version 1 descriptor`],
    };
  }
  const checked = v.check(descriptorV1, raw);
  return checked.ok ? { ok: true, descriptor: checked.value } : { ok: false, problems: checked.problems.map((p) => `${file}: ${p}`) };
}

/** Read and validate `<dir>/webshare.json`, and check that the files it names exist. */
export function readDescriptor(dir: string): ParsedDescriptor {
  const file = path.join(dir, DESCRIPTOR_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return { ok: false, problems: [`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}); an app directory needs a ${DESCRIPTOR_FILE}`] };
  }
  const parsed = parseDescriptor(text, file);
  if (!parsed.ok) return parsed;
  const d = parsed.descriptor;
  const problems: string[] = [];
  const named: [string, string | undefined][] = [
    ["requirements", d.requirements],
    ["lock", d.lock],
    ...Object.entries(d.staticDirs ?? {}).map(([urlPath, relative]): [string, string] => [`staticDirs[${JSON.stringify(urlPath)}]`, relative]),
  ];
  for (const [field, relative] of named) {
    if (relative === undefined) continue;
    const outside = outsideProblem(dir, relative);
    if (outside !== undefined) problems.push(`${file}: ${field} ${JSON.stringify(relative)} ${outside}`);
    else if (!fs.existsSync(path.join(dir, relative))) problems.push(`${file}: ${field} ${JSON.stringify(relative)} does not exist in ${dir}`);
  }
  const moduleFile = d.entry.split(":")[0].split(".").join("/");
  if (!fs.existsSync(path.join(dir, `${moduleFile}.py`)) && !fs.existsSync(path.join(dir, moduleFile, "__init__.py"))) {
    problems.push(`${file}: entry ${JSON.stringify(d.entry)} names module ${moduleFile.split("/").join(".")}, but neither ${moduleFile}.py nor ${moduleFile}/__init__.py exists in ${dir}`);
  }
  return problems.length > 0 ? { ok: false, problems } : parsed;
}

/**
 * Why a path the descriptor names is not inside the app directory (absolute, climbing out
 * with "..", or a symlink resolving outside), or undefined when it is: a descriptor may only
 * name the app's own files, never e.g. "../../.ssh/id_ed25519" as its requirements.
 */
function outsideProblem(dir: string, relative: string): string | undefined {
  const must = `must be a path inside the app directory ${dir}, relative to it`;
  if (path.isAbsolute(relative)) return must;
  const lexical = path.relative(path.resolve(dir), path.resolve(dir, relative));
  if (lexical === "" || lexical === ".." || lexical.startsWith(".." + path.sep)) return must;
  try {
    const real = path.relative(fs.realpathSync(dir), fs.realpathSync(path.join(dir, relative)));
    if (real === ".." || real.startsWith(".." + path.sep) || path.isAbsolute(real)) return `${must} (it is a symlink leading out of it)`;
  } catch {
    // Missing: reported as such by the caller.
  }
  return undefined;
}

/** JSON Schema of the current descriptor version, generated from the zod schema. */
export function descriptorJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://webshare-cdktf.invalid/schema/webshare.schema.json",
    title: "webshare.json: a portable WSGI app descriptor",
    ...z.toJSONSchema(descriptorV1, { io: "input", unrepresentable: "any" }),
  };
}
