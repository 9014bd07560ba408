import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_EXCLUDES, effectiveExcludes, hashTree, isExcluded } from "../../lib/local-files";
import { dirsDownTo, fileMode } from "../../lib/lifecycle/modes";
import { unprotectedKeyProblem } from "../../lib/ssh/key-file";
import { HostSession } from "../../lib/ssh/session";
import { dfScript, isFull, parseDf, pathsInNoSpaceOutput } from "../../lib/ssh/disk-full";
import { diffCommand } from "../../lib/cli/diff";
import { errorText } from "../../lib/errors";
import { tempHome } from "../support/local-shell-session";

describe("what is uploaded", () => {
  test(".env files are excluded by default; exclude adds to the defaults; include takes a default back", () => {
    expect(DEFAULT_EXCLUDES).toContain(".env*");
    const dir = tempHome("privacy-src");
    for (const f of [".env", ".env.production", "app.py", "notes.txt", ".git/config"]) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), "x\n");
    }
    expect(Object.keys(hashTree(dir, effectiveExcludes().excludes))).toEqual(["app.py", "notes.txt"]);
    expect(Object.keys(hashTree(dir, effectiveExcludes(["notes.txt"]).excludes))).toEqual(["app.py"]);
    expect(Object.keys(hashTree(dir, effectiveExcludes([], [".git"]).excludes))).toEqual([".git/config", "app.py", "notes.txt"]);
    expect(isExcluded(".env.local", effectiveExcludes([], [".env*"]).excludes)).toBe(false);
    expect(effectiveExcludes([], [".envrc"]).problems[0]).toContain('include ".envrc" is not one of the default excludes');
  });
});

describe("modes on the host", () => {
  test("private files keep only owner bits, never more than locally; static files are 0644/0755", () => {
    expect(fileMode(0o100644, "app.py", ["static"], "private")).toBe(0o600);
    expect(fileMode(0o100600, "app.py", ["static"], "private")).toBe(0o600);
    expect(fileMode(0o100400, "app.py", ["static"], "private")).toBe(0o400);
    expect(fileMode(0o100755, "bin/run", ["static"], "private")).toBe(0o700);
    expect(fileMode(0o100600, "static/a.css", ["static"], "private")).toBe(0o644);
    expect(fileMode(0o100644, "staticfile.py", ["static"], "private")).toBe(0o600);
    expect(fileMode(0o100600, "app.py", [], "shared")).toBe(0o644);
    expect(dirsDownTo("private/releases/public")).toEqual(["private", "private/releases", "private/releases/public"]);
  });
});

describe("private key files", () => {
  test("a key readable by group or others is refused like OpenSSH does", async () => {
    const uid = process.getuid!();
    expect(unprotectedKeyProblem("/k", { uid, mode: 0o100644 }, uid)).toContain("UNPROTECTED PRIVATE KEY FILE: permissions 0644 for /k are too open");
    expect(unprotectedKeyProblem("/k", { uid, mode: 0o100600 }, uid)).toBeUndefined();
    expect(unprotectedKeyProblem("/k", { uid: uid + 1, mode: 0o100644 }, uid)).toBeUndefined();
    const key = path.join(tempHome("privacy-key"), "id_ed25519");
    fs.writeFileSync(key, "not a key\n", { mode: 0o644 });
    fs.chmodSync(key, 0o644);
    const connection = { host: "127.0.0.1", port: 9, user: "u", privateKeyPath: key, useAgent: false, hostKey: "SHA256:x", connectTimeoutSeconds: 1 };
    const message = await HostSession.open(connection, {}).then(() => "connected", errorText);
    expect(message).toContain("UNPROTECTED PRIVATE KEY FILE");
    expect(message).toContain(`chmod 600 ${key}`);
  });
});

describe("a full disk", () => {
  test("df's report is read, and the path a failed command names is found", () => {
    const df = parseDf(
      "Filesystem     1024-blocks  Used Available Capacity Mounted on\ntmpfs                 2048  2048         0     100% /home/u/private/releases\n" +
        "Filesystem     Inodes IUsed IFree IUse% Mounted on\ntmpfs          254316    12 254304    1% /home/u/private/releases\n",
    )!;
    expect(df).toMatchObject({ mount: "/home/u/private/releases", availableKiB: 0, inodesFree: 254304 });
    expect(isFull(df)).toBe(true);
    expect(isFull({ ...df, availableKiB: 100 }, 1024 * 1024)).toBe(true);
    expect(isFull({ ...df, availableKiB: 100_000 }, 1024)).toBe(false);
    expect(pathsInNoSpaceOutput("cp: cannot create hard link '/home/u/r/x/app.py' to '/home/u/r/y/app.py': No space left on device")).toEqual(["/home/u/r/x/app.py"]);
    expect(pathsInNoSpaceOutput("sh: 1: cannot create /home/u/.webshare/units/x.tmp: No space left on device")).toEqual(["/home/u/.webshare/units/x.tmp"]);
    expect(dfScript("/a b/c")).toContain("'/a b/c'");
  });
});

describe("webshare diff of big files", () => {
  test("200,000-line lock files diff without a stack overflow", async () => {
    const dir = tempHome("privacy-diff");
    const lines = (f: (i: number) => string) => Array.from({ length: 200_000 }, (_, i) => f(i)).join("\n") + "\n";
    fs.writeFileSync(path.join(dir, "old.txt"), lines((i) => `pkg-${i}==1.0.${i % 7}`));
    fs.writeFileSync(path.join(dir, "new.txt"), lines((i) => `pkg-${i}==1.${i % 3}.0`));
    fs.writeFileSync(path.join(dir, "old-loose.txt"), lines((i) => `pkg-${i}>=1.0.${i % 7}`));
    fs.writeFileSync(path.join(dir, "new-loose.txt"), lines((i) => `pkg-${i}>=1.${i % 3}.0`));
    let out = "";
    await diffCommand("old.txt", "new.txt", {}, { cwd: dir, write: (t) => (out += t) });
    expect(out.trimEnd().split("\n").pop()).toBe("190476 package changes: 133333 upgraded (133333 minor), 57143 downgraded (57143 patch); 9524 unchanged.");
    out = "";
    await diffCommand("old-loose.txt", "new-loose.txt", {}, { cwd: dir, write: (t) => (out += t) });
    expect(out.trimEnd().split("\n").pop()).toBe("190476 requirement lines changed: 190476 changed.");
  }, 60_000);
});
