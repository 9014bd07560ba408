import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { lookupSshConfig, matchPatternList, parseJump, readSshConfig, splitConfigLine } from "../../lib/ssh/ssh-config";
import { findKnownHostKeys, hashedKnownHostsLine, knownHostsName } from "../../lib/ssh/known-hosts";
import { resolveConnection } from "../../lib/ssh/resolve";
import { errorText } from "../../lib/errors";
import type { ConnectionSpec } from "../../lib/spec";

/** ~/.ssh/config and known_hosts read the way ssh reads them; resolving a spec into hops. */
const home = "/home/dev";
const files = (map: Record<string, string>) => ({
  home,
  readFile: (f: string) => {
    if (!(f in map)) throw Object.assign(new Error(`ENOENT ${f}`), { code: "ENOENT" });
    return map[f];
  },
  listDir: (d: string) => Object.keys(map).filter((f) => path.dirname(f) === d).map((f) => path.basename(f)),
});
const look = (text: string, alias: string, extra: { user?: string; port?: number } = {}) =>
  lookupSshConfig(readSshConfig("/home/dev/.ssh/config", files({ "/home/dev/.ssh/config": text })), alias, { ...extra, localUser: "dev", home });

describe("ssh config", () => {
  test("splits lines like ssh: quotes, '=', comments", () => {
    expect(splitConfigLine('  IdentityFile "~/keys/my key"  ')).toEqual(["IdentityFile", "~/keys/my key"]);
    expect(splitConfigLine("Port=2222")).toEqual(["Port", "2222"]);
    expect(splitConfigLine("HostName = web.example.com")).toEqual(["HostName", "web.example.com"]);
    expect(splitConfigLine("# a comment")).toEqual([]);
    expect(splitConfigLine("Host web db")).toEqual(["Host", "web", "db"]);
  });

  test("an alias gets HostName, User, Port, IdentityFile and ProxyJump; the first value wins", () => {
    const config = `
# platform team's config
Host web-prod
  HostName 203.0.113.5
  User deploy
  Port 2222
  IdentityFile ~/.ssh/deploy_ed25519
  ProxyJump ops@bastion.example.com:2200
Host web-*
  User someone-else
  IdentityFile ~/.ssh/id_ed25519
Host *
  Port 22
`;
    const found = look(config, "web-prod");
    expect(found).toMatchObject({ hostName: "203.0.113.5", user: "deploy", port: 2222, proxyJump: ["ops@bastion.example.com:2200"] });
    expect(found.identityFiles).toEqual(["/home/dev/.ssh/deploy_ed25519", "/home/dev/.ssh/id_ed25519"]);
  });

  test("props win over the config, as 'ssh -l USER -p PORT' does", () => {
    const found = look("Host web\n  User deploy\n  Port 2222\n", "web", { user: "me", port: 22 });
    expect(found).toMatchObject({ user: "me", port: 22 });
  });

  test("patterns: '?', '*', negation, case-insensitive, comma lists", () => {
    expect(matchPatternList(["web?"], "web1")).toBe(true);
    expect(matchPatternList(["web?"], "web")).toBe(false);
    expect(matchPatternList(["*.example.com", "!db.example.com"], "db.example.com")).toBe(false);
    expect(matchPatternList(["WEB.example.com"], "web.EXAMPLE.com")).toBe(true);
    expect(matchPatternList(["a,b"], "b")).toBe(true);
  });

  test("Match host/user apply, Match exec is never run and is reported", () => {
    const config = `
Host app
  HostName app.internal
Match host app.internal user deploy
  Port 2022
Match exec "touch /tmp/webshare-should-not-exist"
  Port 1
Host *
  User deploy
`;
    const found = look(config, "app", { user: "deploy" });
    expect(found.port).toBe(2022);
    expect(found.notes.join("\n")).toMatch(/Match exec.*not evaluated/);
    expect(fs.existsSync("/tmp/webshare-should-not-exist")).toBe(false);
  });

  test("Include splices other files (relative to the including file, with globs)", () => {
    const fsMap = {
      "/home/dev/.ssh/config": "Include config.d/*.conf\nHost *\n  User fallback\n",
      "/home/dev/.ssh/config.d/10-web.conf": "Host web\n  HostName 198.51.100.7\n  User deploy\n",
      "/home/dev/.ssh/config.d/README": "Host web\n  HostName wrong\n",
    };
    const found = lookupSshConfig(readSshConfig("/home/dev/.ssh/config", files(fsMap)), "web", { localUser: "dev", home });
    expect(found).toMatchObject({ hostName: "198.51.100.7", user: "deploy" });
  });

  test("tokens: HostName %h and IdentityFile %r/%h", () => {
    const found = look("Host *.corp\n  HostName %h.example.com\n  IdentityFile ~/.ssh/%r@%h\n  User ops\n", "web.corp");
    expect(found.hostName).toBe("web.corp.example.com");
    expect(found.identityFiles).toEqual(["/home/dev/.ssh/ops@web.corp.example.com"]);
  });

  test("ProxyJump none and hop syntax", () => {
    expect(look("Host a\n  ProxyJump none\nHost *\n  ProxyJump b\n", "a").proxyJump).toEqual([]);
    expect(look("Host a\n  ProxyJump j1,u@j2:2200\n", "a").proxyJump).toEqual(["j1", "u@j2:2200"]);
    expect(parseJump("u@[::1]:2200")).toEqual({ user: "u", host: "::1", port: 2200 });
    expect(parseJump("ssh://bastion:2201")).toEqual({ user: undefined, host: "bastion", port: 2201 });
  });
});

describe("known_hosts", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kh-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, "hostkey");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  const pub = fs.readFileSync(`${keyFile}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  const fingerprint = execFileSync("ssh-keygen", ["-lf", `${keyFile}.pub`], { encoding: "utf8" }).split(" ")[1];

  test("the name is host on port 22 and [host]:port otherwise", () => {
    expect(knownHostsName("h", 22)).toBe("h");
    expect(knownHostsName("h", 2222)).toBe("[h]:2222");
  });

  test("plain, bracketed-port and wildcard entries give the fingerprint ssh-keygen prints", () => {
    const text = `web.example.com,203.0.113.5 ${pub}\n[127.0.0.1]:2222 ${pub}\n*.corp ${pub}\n`;
    expect(findKnownHostKeys(text, "203.0.113.5", 22).keys.map((k) => k.fingerprint)).toEqual([fingerprint]);
    expect(findKnownHostKeys(text, "127.0.0.1", 2222).keys.map((k) => k.fingerprint)).toEqual([fingerprint]);
    expect(findKnownHostKeys(text, "127.0.0.1", 22).keys).toEqual([]);
    expect(findKnownHostKeys(text, "a.corp", 22).keys[0]).toMatchObject({ fingerprint, keyType: "ssh-ed25519", where: "known_hosts:3" });
  });

  test("entries hashed by the real 'ssh-keygen -H' match, for port 22 and [host]:port", () => {
    const file = path.join(dir, "known_hosts");
    fs.writeFileSync(file, `web.example.com ${pub}\n[127.0.0.1]:2501 ${pub}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const hashed = fs.readFileSync(file, "utf8");
    expect(hashed).not.toContain("web.example.com");
    expect(hashed.split("\n")[0].startsWith("|1|")).toBe(true);
    expect(findKnownHostKeys(hashed, "web.example.com", 22).keys.map((k) => k.fingerprint)).toEqual([fingerprint]);
    expect(findKnownHostKeys(hashed, "127.0.0.1", 2501).keys.map((k) => k.fingerprint)).toEqual([fingerprint]);
    expect(findKnownHostKeys(hashed, "127.0.0.1", 2502).keys).toEqual([]);
    expect(findKnownHostKeys(hashed, "other.example.com", 22).keys).toEqual([]);
    // Our writer produces lines ssh-keygen finds (-F looks a host up).
    const ours = path.join(dir, "ours");
    fs.writeFileSync(ours, hashedKnownHostsLine("127.0.0.1", 2503, pub, Buffer.alloc(20, 7)) + "\n");
    expect(execFileSync("ssh-keygen", ["-F", "[127.0.0.1]:2503", "-f", ours], { encoding: "utf8" })).toContain("ssh-ed25519");
  });

  test("@revoked keys are returned apart; @cert-authority lines are skipped", () => {
    const text = `@revoked web ${pub}\n@cert-authority web ${pub}\n`;
    expect(findKnownHostKeys(text, "web", 22)).toEqual({ keys: [], revoked: [{ fingerprint, keyType: "ssh-ed25519", where: "known_hosts:1" }] });
  });
});

describe("resolveConnection", () => {
  const base: ConnectionSpec = { host: "web-prod", useAgent: false, privateKeyPath: "/keys/k", connectTimeoutSeconds: 10, hostKey: "SHA256:" + "T".repeat(43) };
  const config = `
Host web-prod
  HostName 203.0.113.5
  User deploy
  ProxyJump bastion
Host bastion
  HostName 198.51.100.1
  User ops
  Port 2200
`;
  const fsMap = (kh = "") => ({ "/home/dev/.ssh/config": config, "/home/dev/.ssh/known_hosts": kh });
  const resolve = (spec: ConnectionSpec, kh = "") => resolveConnection(spec, { ...files(fsMap(kh)), localUser: "dev" });
  const bastionLine = `[198.51.100.1]:2200 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOq8Y3cmsJlVTGmkMeAn8Yb6yyMwJGrCKoVBsEZ3gmr`;

  test("an alias through its ProxyJump: the route names both, each hop pinned", () => {
    const r = resolve({ ...base, sshConfigFile: "~/.ssh/config", knownHostsFile: "~/.ssh/known_hosts" }, bastionLine);
    expect(r.route).toBe("web-prod -> deploy@203.0.113.5:22 via ops@198.51.100.1:2200");
    expect(r.jumps[0]).toMatchObject({ host: "198.51.100.1", port: 2200, user: "ops", privateKeyPath: "/keys/k" });
    expect(r.jumps[0].pins).toHaveLength(1);
    expect(r.target.pins).toEqual([base.hostKey]);
    expect(r).toMatchObject({ connectAttempts: 4, connectRetrySeconds: 15 });
  });

  test("a jump host with no pin anywhere is refused before any connect: never accept-any by default", () => {
    expect(() => resolve({ ...base, sshConfigFile: "~/.ssh/config" })).toThrow(/jump host ops@198.51.100.1:2200: no pinned host key/);
    expect(() => resolve({ ...base, sshConfigFile: "~/.ssh/config", knownHostsFile: "~/.ssh/known_hosts" }, "")).toThrow(/no pinned host key/);
  });

  test("props' jumpHosts replace ProxyJump; a prop hop defaults to the target's user and key", () => {
    const r = resolve({ ...base, host: "10.0.0.5", user: "wss", port: 22, jumpHosts: [{ host: "j.example.com", hostKey: ["SHA256:" + "J".repeat(43)] }] });
    expect(r.route).toBe("wss@10.0.0.5:22 via wss@j.example.com:22");
  });

  test("several pins are kept; the opt-out cannot be mixed with pins; a missing file names itself", () => {
    const two = ["SHA256:" + "A".repeat(43), "SHA256:" + "B".repeat(43)];
    expect(resolve({ ...base, host: "h", user: "u", hostKey: two }).target.pins).toEqual(two);
    expect(() => resolve({ ...base, host: "h", user: "u", hostKey: ["INSECURE-ACCEPT-ANY-HOST-KEY", two[0]] })).toThrow(/cannot be combined/);
    let message = "";
    try {
      resolve({ ...base, sshConfigFile: "/nowhere/config" });
    } catch (e) {
      message = errorText(e);
    }
    expect(message).toMatch(/cannot read the ssh config \/nowhere\/config: ENOENT/);
    expect(message).toMatch(/read at apply time on the machine that deploys/);
  });

  test("ProxyCommand is refused rather than silently connecting directly", () => {
    const map = { "/home/dev/.ssh/config": "Host x\n  ProxyCommand nc %h %p\n" };
    expect(() => resolveConnection({ ...base, host: "x", sshConfigFile: "~/.ssh/config" }, { ...files(map), localUser: "dev" })).toThrow(/ProxyCommand.*use ProxyJump/);
  });
});
