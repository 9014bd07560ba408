import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as nodePath from "node:path";
import { WebshareError } from "../errors";
import { parseRequirements } from "../requirements";
import { diffRequirementEntries } from "../summary/requirements-diff";
import { renderRequirementsDiff } from "../summary/render";

/**
 * `webshare diff OLD NEW`: what changes between two lock, freeze or requirements files, as
 * Markdown (or JSON) for a PR. Each side is a file path or `git:REF:PATH`, read with
 * `git show REF:PATH` (no shell). Informative: it succeeds whenever it could compute a diff;
 * an unreadable file or any parse error (in either file, with line numbers) fails.
 */
export interface DiffOptions {
  readonly json?: boolean;
}

export interface DiffIo {
  readonly cwd: string;
  readonly write: (text: string) => void;
}

const GIT_PREFIX = "git:";

/** `git:REF:PATH` -> its parts; undefined for a plain file path. Git refs cannot contain ":". */
export function parseGitSource(source: string): { ref: string; path: string } | undefined {
  if (!source.startsWith(GIT_PREFIX)) return undefined;
  const rest = source.slice(GIT_PREFIX.length);
  const colon = rest.indexOf(":");
  const ref = colon < 0 ? "" : rest.slice(0, colon);
  const path = colon < 0 ? "" : rest.slice(colon + 1);
  if (ref === "" || path === "") {
    throw new WebshareError(`${JSON.stringify(source)} is not a git source`, 'write git:REF:PATH, e.g. "git:main:app/requirements.lock" (PATH from the repository root, or ./PATH from the current directory); to read a file whose name starts with "git:", write ./git:...');
  }
  if (ref.startsWith("-")) throw new WebshareError(`${JSON.stringify(source)}: a git ref cannot start with "-"`);
  return { ref, path };
}

function gitShow(ref: string, path: string, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", ["show", `${ref}:${path}`], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const why = (stderr || error.message).trim().split("\n").slice(-3).join("; ");
      reject(
        new WebshareError(
          `cannot read ${GIT_PREFIX}${ref}:${path}: git show failed: ${why}`,
          "check that the ref exists (git rev-parse REF) and that PATH is relative to the repository root (or starts with ./ for the current directory)",
        ),
      );
    });
  });
}

async function readSource(source: string, cwd: string): Promise<string> {
  const git = parseGitSource(source);
  if (git) return gitShow(git.ref, git.path, cwd);
  try {
    return await fs.readFile(nodePath.resolve(cwd, source), "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.message;
    throw new WebshareError(`cannot read ${source}: ${why}`, "pass a lock, freeze or requirements file, or git:REF:PATH");
  }
}

export async function diffCommand(oldSource: string, newSource: string, options: DiffOptions, io: DiffIo): Promise<void> {
  const [oldText, newText] = await Promise.all([readSource(oldSource, io.cwd), readSource(newSource, io.cwd)]);
  const oldParsed = parseRequirements(oldText);
  const newParsed = parseRequirements(newText);
  const problems = [
    ...oldParsed.errors.map((e) => `${oldSource}: ${e.message}`),
    ...newParsed.errors.map((e) => `${newSource}: ${e.message}`),
  ];
  if (problems.length > 0) {
    throw new WebshareError(
      `cannot diff: ${problems.length === 1 ? "a requirement line does" : `${problems.length} requirement lines do`} not parse:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "fix these lines; pip would refuse them too",
    );
  }
  const diff = diffRequirementEntries(oldParsed.entries, newParsed.entries);
  if (options.json) io.write(`${JSON.stringify({ old: oldSource, new: newSource, ...diff }, null, 2)}\n`);
  else io.write(renderRequirementsDiff(diff, oldSource, newSource, { maxItems: Number.POSITIVE_INFINITY }));
}
