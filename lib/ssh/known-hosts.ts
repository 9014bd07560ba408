import { createHmac, timingSafeEqual } from "node:crypto";
import { sshFingerprint } from "./fingerprint";
import { matchPatternList } from "./ssh-config";

/**
 * Host key pins from an OpenSSH known_hosts file (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"),
 * pure. A host is looked up by the name ssh uses: `host` on port 22, `[host]:port`
 * otherwise. Entries may list patterns (`*`, `?`, `!negated`, comma-separated) or be hashed
 * (`|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes them).
 * `@revoked` keys are returned so that a connect refuses them even when pinned elsewhere;
 * `@cert-authority` lines are skipped (host certificates are not supported).
 */

export interface KnownHostKey {
  /** `SHA256:...` of the key blob, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  readonly keyType: string;
  /** `file:line`, for messages. */
  readonly where: string;
}

export interface KnownHostsMatch {
  readonly keys: KnownHostKey[];
  readonly revoked: KnownHostKey[];
}

/** The name known_hosts stores a host under. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hashedMatches(entry: string, name: string): boolean {
  const parts = entry.split("|"); // ["", "1", salt, hash]
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2], "base64");
  const expected = Buffer.from(parts[3], "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Does the host-names field of one line name this host? */
function namesHost(field: string, name: string): boolean {
  if (field.startsWith("|")) return hashedMatches(field, name);
  return matchPatternList([field.toLowerCase()], name.toLowerCase());
}

/** Keys recorded for `host`:`port` in the text of a known_hosts file. */
export function findKnownHostKeys(text: string, host: string, port: number, file = "known_hosts"): KnownHostsMatch {
  const name = knownHostsName(host, port);
  const keys: KnownHostKey[] = [];
  const revoked: KnownHostKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0].startsWith("@")) marker = fields.shift();
    if (fields.length < 3) return;
    const [hosts, keyType, blob] = fields;
    if (marker === "@cert-authority") return;
    if (!namesHost(hosts, name)) return;
    const raw64 = Buffer.from(blob, "base64");
    if (raw64.length === 0) return;
    const key = { fingerprint: sshFingerprint(raw64), keyType, where: `${file}:${i + 1}` };
    (marker === "@revoked" ? revoked : keys).push(key);
  });
  return { keys, revoked };
}

/** One line for a known_hosts file with the host name hashed (what `ssh-keygen -H` does). */
export function hashedKnownHostsLine(host: string, port: number, keyLine: string, salt: Buffer): string {
  const name = knownHostsName(host, port);
  const hash = createHmac("sha1", salt).update(name).digest("base64");
  return `|1|${salt.toString("base64")}|${hash} ${keyLine.trim()}`;
}
