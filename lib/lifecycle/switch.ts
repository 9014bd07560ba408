import * as path from "node:path";
import { commandLine, quote } from "../shell";

/**
 * Shell text for the atomic switch of a symlink: make the new link under a temp name, then
 * one rename over the old one (`mv -T`), so readers see either the old or the new target,
 * never nothing. A real directory left from before this tool is moved aside first (once).
 */
export function switchSymlinkScript(link: string, target: string, asideName: string): string {
  const relativeTarget = path.posix.relative(path.posix.dirname(link), target);
  const temp = `${link}.webshare-switch`;
  return [
    `if [ -d ${quote(link)} ] && [ ! -L ${quote(link)} ]; then ${commandLine(["mv", "-T", link, asideName])}; fi`,
    commandLine(["rm", "-f", temp]),
    commandLine(["ln", "-s", relativeTarget, temp]),
    commandLine(["mv", "-T", temp, link]),
  ].join(" && ");
}

/** Shell test: `link` names `target` as switchSymlinkScript makes it (relative to the link's dir). */
export function linkNamesScript(link: string, target: string): string {
  return `[ "$(readlink ${quote(link)} 2>/dev/null)" = ${quote(path.posix.relative(path.posix.dirname(link), target))} ]`;
}

/** Print the current target directory name of a link managed by us, or nothing. */
export function readLinkScript(link: string): string {
  return `readlink ${quote(link)} 2>/dev/null || true`;
}

/**
 * Touch each existing file (mod_wsgi reloads a daemon when its script's mtime changes) and
 * print the ones touched, one per line: an app not deployed yet has no entry point.
 */
export function touchExistingScript(files: readonly string[]): string {
  if (files.length === 0) return "true";
  return files.map((f) => `{ [ ! -e ${quote(f)} ] || { touch ${quote(f)} && printf '%s\\n' ${quote(f)}; }; }`).join(" && ");
}

/**
 * Remove old content-addressed directories, keeping the current one and the `keep` most
 * recent others recorded in the history file (newest last). Only 16-hex-digit names are
 * ever removed, so nothing the tool did not create is touched.
 */
export function pruneScript(python: string, dir: string, historyFile: string, current: string, keep: number): string {
  const py = [
    "import os, shutil, sys",
    "d, hist, cur, keep = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])",
    "ids = [l.strip() for l in open(hist)] if os.path.exists(hist) else []",
    "recent = [i for i in dict.fromkeys(reversed(ids)) if i != cur][:keep]",
    "keepset = set(recent) | {cur}",
    "for name in os.listdir(d):",
    "    full = os.path.join(d, name)",
    "    if len(name) == 16 and all(c in '0123456789abcdef' for c in name) and name not in keepset and os.path.isdir(full) and not os.path.islink(full):",
    "        shutil.rmtree(full, ignore_errors=True)",
    "        print(name)",
    "with open(hist + '.tmp', 'w') as f:",
    "    f.write(''.join(i + '\\n' for i in list(reversed(recent)) + [cur]))",
    "os.replace(hist + '.tmp', hist)",
  ].join("\n");
  return commandLine([python, "-c", py, dir, historyFile, current, String(keep)]);
}

/** Remove a directory the tool made for its own content, but only once nothing is left in it. */
export function removeIfEmpty(dir: string): string {
  // A unit destroyed before it ever deployed has no such directory: nothing to remove.
  return `{ [ ! -d ${quote(dir)} ] || ${commandLine(["rmdir", "--ignore-fail-on-non-empty", dir])}; }`;
}

/**
 * Shell text writing the command's stdin to `file` with mode 0600 (a temp file beside it made
 * under umask 077, then one rename; no temp file stays on failure): a file write that shares
 * the exchange of the command it precedes.
 */
export function stdinToFileScript(file: string): string {
  const temp = `${file}.webshare-tmp`;
  return `{ { (umask 077 && cat > ${quote(temp)}) && ${commandLine(["mv", "-f", temp, file])}; } || { ${commandLine(["rm", "-f", temp])}; false; }; }`;
}

/**
 * Shell text: `text` into `file` (0600, through a temp file and a rename); the text is quoted,
 * never run. It travels inside the command, whose whole text is one argument on the host
 * (`/bin/sh -c`, at most 128 KiB): keep it small, or send it on stdin (stdinToFileScript).
 */
export function textToFileScript(file: string, text: string): string {
  const temp = `${file}.webshare-tmp`;
  return `(umask 077 && printf '%s' ${quote(text)} > ${quote(temp)}) && ${commandLine(["mv", "-f", temp, file])}`;
}
