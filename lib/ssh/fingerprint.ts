import { createHash } from "node:crypto";

/** `SHA256:...` fingerprint of a raw host key, exactly as `ssh-keygen -lf` prints it. */
export function sshFingerprint(rawKey: Buffer): string {
  return "SHA256:" + createHash("sha256").update(rawKey).digest("base64").replace(/=+$/, "");
}

/** Fingerprints compare without a trailing '=' some tools print. */
export function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/=+$/, "") === b.replace(/=+$/, "");
}
