import * as fs from "node:fs";
import * as path from "node:path";

/**
 * An OpenSSH client config (`~/.ssh/config`, ssh_config(5)) read the way `ssh ALIAS` reads
 * it, for the settings a deploy needs: HostName, User, Port, IdentityFile, ProxyJump (and
 * HostKeyAlias for the known_hosts lookup). Pure apart from reading the files.
 *
 * Our own small reader, not the `ssh-config` npm package: that package's `compute()` runs
 * `Match exec` commands in a shell and `nslookup` by default, matches host patterns
 * case-sensitively with `?` as "zero or one character", has no `Include` and expands no
 * `~`/`%h` tokens, and is ESM-typed under our CommonJS build. The parsing is the small part;
 * the lookup rules below are the ones ssh_config(5) states.
 *
 * Rules: keywords are case-insensitive; for each keyword the FIRST value obtained wins
 * (IdentityFile accumulates); `Host` patterns (`*`, `?`, `!negated`) match the alias as
 * typed, case-insensitively; `Match` supports `all`, `host`, `originalhost`, `user`,
 * `localuser` and `final` (evaluated in the one pass); other criteria (`exec`, `canonical`,
 * `tagged`...) never match and are reported as notes; `Include` is spliced in where it
 * stands (relative paths from the including file's directory, `*`/`?` in the file name).
 */

export interface SshConfigLine {
  readonly keyword: string; // lower case
  readonly args: string[];
  readonly file: string;
  readonly line: number;
}

export interface SshConfigLookup {
  /** The name the config was asked for (the `host` prop). */
  readonly alias: string;
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  /** IdentityFile values, tokens and `~` expanded, in order. */
  readonly identityFiles: string[];
  /** ProxyJump hops as written (`[user@]host[:port]`), empty for none. */
  readonly proxyJump: string[];
  /** Set when a ProxyCommand (which we cannot run) is in effect and no ProxyJump is. */
  readonly proxyCommand?: string;
  readonly hostKeyAlias?: string;
  /** Things that were not evaluated, e.g. a `Match exec` block. */
  readonly notes: string[];
}

export class SshConfigError extends Error {}

/** Split one config line into words: whitespace separates, double quotes group, `Keyword=value` allowed. */
export function splitConfigLine(text: string): string[] {
  const s = text.trim();
  if (s === "" || s.startsWith("#")) return [];
  // "Keyword value", "Keyword = value" and "Keyword=value": one "=" after the keyword is a separator.
  const m = /^([^\s=]+)[ \t]*=?[ \t]*(.*)$/.exec(s) as RegExpExecArray;
  return [m[1], ...splitArgs(m[2])];
}

function splitArgs(s: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quoted = false;
  for (const c of s) {
    if (quoted) {
      if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quoted) throw new SshConfigError(`unbalanced quotes in: ${s}`);
  if (inWord) words.push(current);
  return words;
}

export interface ReadOptions {
  readonly home: string;
  /** Reads a file; injectable for tests. */
  readonly readFile?: (file: string) => string;
  readonly listDir?: (dir: string) => string[];
}

/** Expand a leading `~/` to the home directory. */
export function expandTilde(file: string, home: string): string {
  return file === "~" ? home : file.startsWith("~/") ? path.join(home, file.slice(2)) : file;
}

/** Read a config file and the files it Includes, as one list of lines. */
export function readSshConfig(file: string, options: ReadOptions, depth = 0): SshConfigLine[] {
  const readFile = options.readFile ?? ((f: string) => fs.readFileSync(f, "utf8"));
  const listDir = options.listDir ?? ((d: string) => fs.readdirSync(d));
  if (depth > 16) throw new SshConfigError(`${file}: Include nested more than 16 deep`);
  const text = readFile(file);
  const lines: SshConfigLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    let words: string[];
    try {
      words = splitConfigLine(raw);
    } catch (e) {
      throw new SshConfigError(`${file}:${i + 1}: ${(e as Error).message}`);
    }
    if (words.length === 0) return;
    const keyword = words[0].toLowerCase();
    const args = words.slice(1);
    if (keyword !== "include") {
      lines.push({ keyword, args, file, line: i + 1 });
      return;
    }
    for (const pattern of args) {
      const full = path.resolve(path.dirname(file), expandTilde(pattern, options.home));
      for (const included of expandGlob(full, listDir)) {
        try {
          lines.push(...readSshConfig(included, options, depth + 1));
        } catch (e) {
          // ssh skips an Include that names no file.
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
    }
  });
  return lines;
}

/** `*`/`?` in the last path component only (what Include needs in practice); sorted like glob(3). */
function expandGlob(file: string, listDir: (dir: string) => string[]): string[] {
  const base = path.basename(file);
  if (!/[*?]/.test(base)) return [file];
  const dir = path.dirname(file);
  let names: string[];
  try {
    names = listDir(dir);
  } catch {
    return [];
  }
  const re = patternRegExp(base);
  return names.filter((n) => re.test(n) && !n.startsWith(".")).sort().map((n) => path.join(dir, n));
}

/** An ssh pattern (`*` any run, `?` exactly one character) as a case-insensitive RegExp. */
function patternRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** ssh_config pattern-list: matches if any pattern matches and no negated one does. */
export function matchPatternList(patterns: readonly string[], text: string): boolean {
  let matched = false;
  for (const list of patterns) {
    for (const p of list.split(",")) {
      if (p === "") continue;
      if (p.startsWith("!")) {
        if (patternRegExp(p.slice(1)).test(text)) return false;
      } else if (patternRegExp(p).test(text)) matched = true;
    }
  }
  return matched;
}

export interface LookupOptions {
  /** The user given in props: wins over the config's User, as `ssh -l USER` does. */
  readonly user?: string;
  /** The port given in props: wins over the config's Port, as `ssh -p PORT` does. */
  readonly port?: number;
  readonly localUser: string;
  readonly home: string;
}

/** The settings `ssh ALIAS` would use for ALIAS. */
export function lookupSshConfig(lines: readonly SshConfigLine[], alias: string, options: LookupOptions): SshConfigLookup {
  const values = new Map<string, string[]>();
  const identityFiles: string[] = [];
  const notes: string[] = [];
  let active = true;
  const current = () => ({
    host: values.get("hostname")?.[0] ?? alias,
    user: options.user ?? values.get("user")?.[0] ?? options.localUser,
  });
  for (const l of lines) {
    if (l.keyword === "host") {
      active = matchPatternList(l.args, alias);
      continue;
    }
    if (l.keyword === "match") {
      active = matchCriteria(l, alias, current(), options.localUser, notes);
      continue;
    }
    if (!active) continue;
    if (l.keyword === "identityfile") {
      if (l.args[0] !== undefined) identityFiles.push(l.args[0]);
      continue;
    }
    if (!values.has(l.keyword)) values.set(l.keyword, l.args);
  }
  const first = (k: string) => values.get(k)?.[0];
  const hostName = expandTokens(first("hostname") ?? alias, { h: alias, n: alias, u: options.localUser, d: options.home }, "HostName");
  let port = options.port;
  if (port === undefined && first("port") !== undefined) {
    const p = Number(first("port"));
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new SshConfigError(`Port for ${alias} is not a port number: ${first("port")}`);
    port = p;
  }
  const user = options.user ?? first("user");
  const tokens = { h: hostName, n: alias, p: String(port ?? 22), r: user ?? options.localUser, u: options.localUser, d: options.home };
  const jumpValue = values.get("proxyjump");
  const proxyJump = jumpValue === undefined || jumpValue[0]?.toLowerCase() === "none" ? [] : jumpValue.join(",").split(",").filter((s) => s !== "");
  const proxyCommandArgs = values.get("proxycommand");
  const proxyCommand = proxyJump.length === 0 && proxyCommandArgs !== undefined && proxyCommandArgs[0]?.toLowerCase() !== "none" ? proxyCommandArgs.join(" ") : undefined;
  return {
    alias,
    hostName,
    user,
    port,
    identityFiles: identityFiles.map((f) => expandTilde(expandTokens(f, tokens, "IdentityFile"), options.home)),
    proxyJump,
    proxyCommand,
    hostKeyAlias: first("hostkeyalias"),
    notes,
  };
}

function matchCriteria(l: SshConfigLine, alias: string, now: { host: string; user: string }, localUser: string, notes: string[]): boolean {
  const args = l.args;
  let result = true;
  for (let i = 0; i < args.length; i++) {
    let criterion = args[i].toLowerCase();
    const negate = criterion.startsWith("!");
    if (negate) criterion = criterion.slice(1);
    let ok: boolean;
    if (criterion === "all" || criterion === "final") ok = true;
    else if (["host", "originalhost", "user", "localuser"].includes(criterion)) {
      const value = args[++i];
      if (value === undefined) throw new SshConfigError(`${l.file}:${l.line}: Match ${criterion} needs a value`);
      const subject = criterion === "host" ? now.host : criterion === "originalhost" ? alias : criterion === "user" ? now.user : localUser;
      ok = matchPatternList([value], subject);
    } else {
      // exec, canonical, tagged, address...: we never run commands from a config, so it does not match.
      if (!["canonical"].includes(criterion)) i++;
      notes.push(`${l.file}:${l.line}: "Match ${criterion}" is not evaluated by webshare; that block is skipped`);
      return false;
    }
    if (negate) ok = !ok;
    result = result && ok;
  }
  return result;
}

/** ssh_config TOKENS: %h %n %p %r %u %d %%; any other token is refused, naming the keyword. */
function expandTokens(value: string, tokens: Record<string, string>, keyword: string): string {
  return value.replace(/%(.)/g, (all, t: string) => {
    if (t === "%") return "%";
    const v = tokens[t];
    if (v === undefined) throw new SshConfigError(`${keyword} ${value}: token ${all} is not supported (only %h %n %p %r %u %d %%)`);
    return v;
  });
}

/** One ProxyJump hop `[user@]host[:port]` (an ssh:// URI too). */
export function parseJump(hop: string): { user?: string; host: string; port?: number } {
  const text = hop.startsWith("ssh://") ? hop.slice("ssh://".length) : hop;
  const at = text.lastIndexOf("@");
  const user = at >= 0 ? text.slice(0, at) : undefined;
  let rest = at >= 0 ? text.slice(at + 1) : text;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  if (rest === "" || (port !== undefined && (port < 1 || port > 65535)) || user === "") throw new SshConfigError(`ProxyJump hop ${JSON.stringify(hop)} is not [user@]host[:port]`);
  return { user, host: rest, port };
}
