import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Which files of an app's source tree are uploaded, and which entries make the tree unsafe
 * to upload. Nothing outside the tree is ever uploaded:
 *
 * - a symlink whose target (resolved fully) lies outside the tree is refused, naming the
 *   link and its target: following it would upload e.g. a private 0600 file for Apache to
 *   serve;
 * - a symlink to a file inside the tree is uploaded as a regular file with its target's
 *   content (under the link's name); a symlink to a directory inside the tree is not
 *   followed (its files are uploaded once, under their real path);
 * - a dangling or looping symlink, a file name that is not valid UTF-8 (the host would get a
 *   different name) and an entry that cannot be read are refused, naming the file.
 *
 * Synth (WsgiApp) reports the problems under the construct; apply's re-hash (hashTree)
 * refuses the same tree again, so a link changed after synth is caught too.
 */
export interface SourceTreeWalk {
  /** Relative path (posix) -> local path to read, for every uploaded file, sorted. */
  readonly files: Record<string, string>;
  /** Why the tree cannot be uploaded, one line per entry; empty when it can. */
  readonly problems: string[];
}

const quote = (text: string) => JSON.stringify(text);
const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** True when `inner` is `outer` or lies below it (both absolute and resolved). */
function within(outer: string, inner: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** Walk `root`; `skip(relative)` leaves an entry (and, for a directory, its contents) out. */
export function walkSourceTree(root: string, skip: (relative: string) => boolean): SourceTreeWalk {
  const files: Record<string, string> = {};
  const problems: string[] = [];
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch (e) {
    return { files, problems: [`cannot read the source directory ${quote(root)} (${code(e)})`] };
  }
  const walk = (dir: string, prefix: string) => {
    let names: Buffer[];
    try {
      names = fs.readdirSync(dir, { encoding: "buffer" });
    } catch (e) {
      problems.push(`cannot read directory ${quote(prefix === "" ? "." : prefix)} (${code(e)})`);
      return;
    }
    const entries = names.map((bytes) => ({ bytes, name: bytes.toString("utf8") })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const { bytes, name } of entries) {
      const relative = prefix === "" ? name : `${prefix}/${name}`;
      if (skip(relative)) continue;
      if (!Buffer.from(name, "utf8").equals(bytes)) {
        problems.push(`file name ${quote(relative)} (bytes ${bytes.toString("hex")}) is not valid UTF-8; rename it or exclude it`);
        continue;
      }
      const full = path.join(dir, name);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(full);
        if (stat.isSymbolicLink()) {
          const target = fs.readlinkSync(full);
          let real: string;
          try {
            real = fs.realpathSync(full);
          } catch (e) {
            problems.push(`symlink ${quote(relative)} -> ${quote(target)} is dangling (${code(e)}); remove it, fix it, or exclude it`);
            continue;
          }
          if (!within(realRoot, real)) {
            problems.push(
              `symlink ${quote(relative)} -> ${quote(target)} points outside the source tree (to ${real}); only files inside the tree are uploaded: copy the file into the tree, or exclude the link`,
            );
            continue;
          }
          stat = fs.statSync(full);
          if (stat.isFile()) files[relative] = full;
          continue; // a directory link inside the tree is not followed
        }
      } catch (e) {
        problems.push(`cannot read ${quote(relative)} (${code(e)})`);
        continue;
      }
      if (stat.isDirectory()) walk(full, relative);
      else if (stat.isFile()) files[relative] = full;
    }
  };
  walk(root, "");
  return { files, problems };
}
