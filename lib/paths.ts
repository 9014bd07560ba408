import * as path from "node:path";
import { plumbingProblem } from "./remote-paths";

/**
 * Remote paths are always relative to the host's home. These helpers normalise a path and
 * refuse one that escapes the home (`..`), so no construct can touch files outside it.
 */

/** Why a remote path is not acceptable, or undefined when it is fine. */
export function homePathProblem(candidate: string, home: string): string | undefined {
  if (candidate.trim() === "") return "must not be empty";
  if (/[\0\n\r]/.test(candidate)) return "must not contain NUL or line breaks";
  const relative = toHomeRelative(candidate, home);
  if (relative === undefined) return `must stay inside the home directory ${home}`;
  if (relative === "" || relative === ".") return "must name a path below the home directory, not the home itself";
  return undefined;
}

/**
 * Normalise a path to one relative to `home`; undefined when it escapes. Absolute paths are
 * accepted only when they lie inside `home`.
 */
export function toHomeRelative(candidate: string, home: string): string | undefined {
  const homeNorm = path.posix.normalize(home).replace(/\/+$/, "");
  const absolute = candidate.startsWith("/")
    ? path.posix.normalize(candidate)
    : path.posix.normalize(path.posix.join(homeNorm, candidate));
  if (absolute === homeNorm) return "";
  if (!absolute.startsWith(homeNorm + "/")) return undefined;
  return absolute.slice(homeNorm.length + 1).replace(/\/+$/, "");
}

/** A short, filesystem-safe name for a construct path or a remote path. */
export function slug(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "").toLowerCase();
  return cleaned === "" ? "x" : cleaned.slice(0, 60);
}

/**
 * A checker for the remote-path props of one construct: each call returns the path relative
 * to the home, and records a problem (naming the field and value) when it escapes the home
 * or hits the account's plumbing (.ssh, shell startup files, webshare's state dir).
 */
export function homePathChecker(home: string, problems: string[]): (field: string, value: string) => string {
  return (field, value) => {
    const relative = toHomeRelative(value, home);
    const problem = homePathProblem(value, home) ?? plumbingProblem(relative!);
    if (problem) problems.push(`${field} ${JSON.stringify(value)} ${problem}`);
    return relative ?? value;
  };
}
