import * as fs from "node:fs";

/**
 * OpenSSH's rule for private key files (sshkey_perm_ok): a key file owned by the user who
 * runs ssh must not be accessible to group or others (mode & 0o077), or ssh ignores it with
 * "UNPROTECTED PRIVATE KEY FILE!". webshare refuses such a key the same way, naming the
 * mode and the fix, instead of connecting with a key any local user may have copied.
 * Returns the reason, or undefined when the key file is acceptable (pure given the stat).
 */
export function unprotectedKeyProblem(file: string, stat: Pick<fs.Stats, "uid" | "mode">, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === undefined || stat.uid !== uid || (stat.mode & 0o077) === 0) return undefined;
  const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
  return `UNPROTECTED PRIVATE KEY FILE: permissions ${mode} for ${file} are too open: a private key must not be accessible by others (OpenSSH ignores such a key); run: chmod 600 ${file}`;
}

/** unprotectedKeyProblem for a file on disk (undefined when it cannot be stat-ed: the read reports that). */
export function checkKeyFile(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  return unprotectedKeyProblem(file, stat);
}
