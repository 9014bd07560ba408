import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import type { ConnectionSpec, JumpHostSpec } from "../spec";
import { errors } from "../errors";
import { HOST_KEY_INSECURE_ACCEPT_ANY_VALUE } from "./insecure";
import { findKnownHostKeys } from "./known-hosts";
import { lookupSshConfig, parseJump, readSshConfig, SshConfigError, SshConfigLine, SshConfigLookup } from "./ssh-config";

/**
 * A connection spec made concrete on the deploying machine, at apply time: the ssh config
 * looked up, every hop's address, user, key file (absolute) and pinned keys (known_hosts
 * read). What it holds is not secret (key PATHS, passphrase variable NAMES, public key
 * fingerprints), so it may cross the broker's socket; the broker keys its shared
 * connections by it, jump chain and pins included.
 */
export const resolvedHop = z.object({
  /** `user@host:port`. */
  target: z.string(),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  privateKeyPath: z.string().optional(),
  passphraseEnv: z.string().optional(),
  useAgent: z.boolean(),
  /** Accepted `SHA256:` fingerprints; empty only with `insecure`. */
  pins: z.array(z.string()),
  insecure: z.boolean(),
  /** `@revoked` keys of the known_hosts file: refused even when pinned. */
  revoked: z.array(z.object({ fingerprint: z.string(), where: z.string() })),
  /** Key types known_hosts lists for this host, preferred in the handshake (as ssh does). */
  keyTypes: z.array(z.string()),
});
export type ResolvedHop = z.infer<typeof resolvedHop>;

export const resolvedConnection = z.object({
  target: resolvedHop,
  /** First to last; the target is reached through the last one. */
  jumps: z.array(resolvedHop),
  /** e.g. `web -> deploy@10.0.0.5:22 via ops@bastion:22`, for the progress line. */
  route: z.string(),
  connectTimeoutSeconds: z.number().int().positive(),
  connectAttempts: z.number().int().min(1),
  connectRetrySeconds: z.number().min(0),
  /** Lines to show once (e.g. a `Match exec` block of the ssh config that was skipped). */
  notes: z.array(z.string()),
});
export type ResolvedConnection = z.infer<typeof resolvedConnection>;

export const DEFAULT_CONNECT_ATTEMPTS = 4;
export const DEFAULT_CONNECT_RETRY_SECONDS = 15;

/** A local path as the key reader sees it: `~/` is the home directory, a relative path is from the cwd. */
export function resolveLocal(file: string, home = os.homedir()): string {
  return file === "~" ? home : file.startsWith("~/") ? path.join(home, file.slice(2)) : path.resolve(file);
}

/** `user@host:port` of a spec as written (an alias when the ssh config fills in the rest). */
export function targetOf(connection: Pick<ConnectionSpec, "host" | "port" | "user">): string {
  return `${connection.user === undefined ? "" : `${connection.user}@`}${connection.host}${connection.port === undefined ? "" : `:${connection.port}`}`;
}

export interface ResolveOptions {
  readonly home?: string;
  readonly localUser?: string;
  /** The command's environment: its USER names the local user when the system cannot (no passwd entry). */
  readonly env?: NodeJS.ProcessEnv;
  readonly readFile?: (file: string) => string;
}

function localUserName(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? "root";
  }
}

function pinList(hostKey: string | string[] | undefined): string[] {
  return hostKey === undefined ? [] : Array.isArray(hostKey) ? hostKey : [hostKey];
}

/** Resolve a spec on this machine. Throws WebshareErrors naming the hop and what to fix. */
export function resolveConnection(spec: ConnectionSpec, options: ResolveOptions = {}): ResolvedConnection {
  const home = options.home ?? os.homedir();
  const localUser = options.localUser ?? localUserName(options.env ?? {});
  const readFile = options.readFile ?? ((f: string) => fs.readFileSync(f, "utf8"));
  const written = targetOf(spec);

  let config: SshConfigLine[] | undefined;
  const notes: string[] = [];
  const lookup = (host: string, user: string | undefined, port: number | undefined, forWhat: string): SshConfigLookup | undefined => {
    if (config === undefined) return undefined;
    try {
      const found = lookupSshConfig(config, host, { user, port, localUser, home });
      notes.push(...found.notes);
      return found;
    } catch (e) {
      throw errors.sshConfigProblem(forWhat, `${spec.sshConfigFile}: ${(e as Error).message}`);
    }
  };
  if (spec.sshConfigFile !== undefined) {
    const file = resolveLocal(spec.sshConfigFile, home);
    try {
      config = readSshConfig(file, { home, readFile });
    } catch (e) {
      const reason = e instanceof SshConfigError ? e.message : `cannot read the ssh config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      throw errors.sshConfigProblem(written, reason);
    }
  }

  let knownHosts: { file: string; text: string } | undefined;
  if (spec.knownHostsFile !== undefined) {
    const file = resolveLocal(spec.knownHostsFile, home);
    try {
      knownHosts = { file, text: readFile(file) };
    } catch (e) {
      throw errors.sshConfigProblem(written, `cannot read the known_hosts file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  const existingKey = (files: readonly string[]): string | undefined =>
    files.map((f) => resolveLocal(f, home)).find((f) => {
      try {
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    });

  const pinsFor = (target: string, host: string, port: number, hostKey: string | string[] | undefined): Pick<ResolvedHop, "pins" | "insecure" | "revoked" | "keyTypes"> => {
    const given = pinList(hostKey);
    const insecure = given.includes(HOST_KEY_INSECURE_ACCEPT_ANY_VALUE);
    if (insecure && given.length > 1) throw errors.sshConfigProblem(target, "HOST_KEY_INSECURE_ACCEPT_ANY cannot be combined with pinned keys");
    const found = knownHosts === undefined ? { keys: [], revoked: [] } : findKnownHostKeys(knownHosts.text, host, port, knownHosts.file);
    const pins = [...new Set([...given.filter((k) => k !== HOST_KEY_INSECURE_ACCEPT_ANY_VALUE), ...found.keys.map((k) => k.fingerprint)])];
    if (!insecure && pins.length === 0) {
      throw errors.noHostKeyPin(target, [hostKey === undefined ? "no hostKey given" : "hostKey", knownHosts === undefined ? "no knownHostsFile given" : knownHosts.file].join(", "));
    }
    // Prefer the key types known_hosts lists only when every pin came from it (a bare fingerprint has no type).
    const keyTypes = given.length === 0 ? [...new Set(found.keys.map((k) => k.keyType))] : [];
    return { pins, insecure, revoked: found.revoked.map((k) => ({ fingerprint: k.fingerprint, where: k.where })), keyTypes };
  };

  // The target.
  const fromConfig = lookup(spec.host, spec.user, spec.port, written);
  if (fromConfig?.proxyCommand !== undefined && spec.jumpHosts === undefined) {
    throw errors.sshConfigProblem(written, `${spec.sshConfigFile} sets ProxyCommand for ${spec.host}, which webshare does not run; use ProxyJump (or the jumpHosts prop) instead`);
  }
  const host = fromConfig?.hostName ?? spec.host;
  const port = fromConfig?.port ?? spec.port ?? 22;
  const user = fromConfig?.user ?? spec.user ?? (config !== undefined ? localUser : undefined);
  if (user === undefined) throw errors.sshConfigProblem(written, "no user is given");
  const target = `${user}@${host}:${port}`;
  const privateKeyPath = spec.privateKeyPath !== undefined ? resolveLocal(spec.privateKeyPath, home) : existingKey(fromConfig?.identityFiles ?? []);
  const targetHop: ResolvedHop = {
    target,
    host,
    port,
    user,
    privateKeyPath,
    passphraseEnv: spec.passphraseEnv,
    useAgent: spec.useAgent,
    ...pinsFor(target, fromConfig?.hostKeyAlias ?? host, port, spec.hostKey),
  };

  // The jump chain: the props' jumpHosts, else the ssh config's ProxyJump.
  const jumpSpecs: JumpHostSpec[] = spec.jumpHosts ?? (fromConfig?.proxyJump ?? []).map((hop) => {
    try {
      return parseJump(hop);
    } catch (e) {
      throw errors.sshConfigProblem(written, `${spec.sshConfigFile}: ${(e as Error).message}`);
    }
  });
  const fromProps = spec.jumpHosts !== undefined;
  const jumps = jumpSpecs.map((jump): ResolvedHop => {
    const jumpConfig = lookup(jump.host, jump.user, jump.port, targetOf(jump));
    const jHost = jumpConfig?.hostName ?? jump.host;
    const jPort = jumpConfig?.port ?? jump.port ?? 22;
    // As ssh does for a ProxyJump hop: its config's User, else the local user; a prop hop defaults to the target's user.
    const jUser = jumpConfig?.user ?? jump.user ?? (fromProps ? user : localUser);
    const jTarget = `${jUser}@${jHost}:${jPort}`;
    const ownKey = jump.privateKeyPath !== undefined ? resolveLocal(jump.privateKeyPath, home) : existingKey(jumpConfig?.identityFiles ?? []);
    return {
      target: jTarget,
      host: jHost,
      port: jPort,
      user: jUser,
      privateKeyPath: ownKey ?? privateKeyPath,
      passphraseEnv: ownKey !== undefined ? jump.passphraseEnv : (jump.passphraseEnv ?? spec.passphraseEnv),
      useAgent: spec.useAgent,
      ...pinsFor(`jump host ${jTarget}`, jumpConfig?.hostKeyAlias ?? jHost, jPort, jump.hostKey),
    };
  });

  const alias = config !== undefined && spec.host !== host ? `${spec.host} -> ` : "";
  const via = jumps.length > 0 ? ` via ${jumps.map((j) => j.target).join(", ")}` : "";
  return {
    target: targetHop,
    jumps,
    route: `${alias}${target}${via}`,
    connectTimeoutSeconds: spec.connectTimeoutSeconds,
    connectAttempts: spec.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS,
    connectRetrySeconds: spec.connectRetrySeconds ?? DEFAULT_CONNECT_RETRY_SECONDS,
    notes: [...new Set(notes)],
  };
}
