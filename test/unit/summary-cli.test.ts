import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffCommand, parseGitSource } from "../../lib/cli/diff";
import { planSummaryCommand } from "../../lib/cli/plan-summary";
import { WebshareError } from "../../lib/errors";

/** The two commands' I/O edge: files, `git show`, stdin, and the errors a user sees. */
let dir: string;
let out: string;
const io = () => ({ cwd: dir, write: (text: string) => void (out += text) });
const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: dir, stdio: "pipe" });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-summary-cli-"));
  out = "";
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("webshare diff", () => {
  test("git:REF:PATH against a working-tree file", async () => {
    fs.mkdirSync(path.join(dir, "app"));
    fs.writeFileSync(path.join(dir, "app/requirements.lock"), "flask==2.3.3\nwerkzeug==2.3.8\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "v1");
    fs.writeFileSync(path.join(dir, "app/requirements.lock"), "flask==3.0.3\nwerkzeug==2.3.8\nblinker==1.8.2\n");

    await diffCommand("git:main:app/requirements.lock", "app/requirements.lock", {}, io());
    expect(out).toContain("| `flask` | upgraded (**major**) | `2.3.3` | `3.0.3` |");
    expect(out).toContain("| `blinker` | added |  | `1.8.2` |");
    expect(out.trim().split("\n").pop()).toBe("2 package changes: 1 upgraded (1 major), 1 added; 1 unchanged.");

    out = "";
    await diffCommand("git:HEAD:app/requirements.lock", "app/requirements.lock", { json: true }, io());
    const json = JSON.parse(out);
    expect(json.old).toBe("git:HEAD:app/requirements.lock");
    expect(json.packages.upgraded).toEqual([{ name: "flask", from: "2.3.3", to: "3.0.3", changeKind: "major" }]);
    expect(json.hasChanges).toBe(true);
  });

  test("calendar versions and pre-releases are named as such", async () => {
    fs.writeFileSync(path.join(dir, "old.txt"), "certifi==2023.7.22\nflask==1.1.0\n");
    fs.writeFileSync(path.join(dir, "new.txt"), "certifi==2024.2.2\nflask==2.0.0rc1\n");
    await diffCommand("old.txt", "new.txt", {}, io());
    expect(out).toContain("| `certifi` | upgraded (calendar version) | `2023.7.22` | `2024.2.2` |");
    expect(out).toContain("| `flask` | upgraded (**major**, **pre-release**) | `1.1.0` | `2.0.0rc1` |");
    expect(out.trim().split("\n").pop()).toBe("2 package changes: 2 upgraded (1 major, 1 calendar version; 1 pre-release).");
  });

  test("a missing ref or path in git fails with git's reason", async () => {
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(dir, "r.txt"), "a==1\n");
    await expect(diffCommand("git:nosuch:r.txt", "r.txt", {}, io())).rejects.toThrow(/cannot read git:nosuch:r\.txt: git show failed: .*nosuch/);
  });

  test.each([
    ["git:main", "is not a git source"],
    ["git::x", "is not a git source"],
    ["git:-c:x", 'a git ref cannot start with "-"'],
  ])("%s is refused", (source, message) => {
    expect(() => parseGitSource(source)).toThrow(message);
  });

  test("git:REF:PATH keeps colons in the path", () => {
    expect(parseGitSource("git:origin/main:dir/a:b.txt")).toEqual({ ref: "origin/main", path: "dir/a:b.txt" });
    expect(parseGitSource("./git:x")).toBeUndefined();
  });

  test("parse errors in both files are all reported with line numbers", async () => {
    fs.writeFileSync(path.join(dir, "old.txt"), "ok==1.0\nflask=>2\n");
    fs.writeFileSync(path.join(dir, "new.txt"), "# comment\n\nx==1 --hash=md5:abc\n");
    const error = await diffCommand("old.txt", "new.txt", {}, io()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebshareError);
    expect((error as Error).message).toBe(
      [
        "cannot diff: 2 requirement lines do not parse:",
        '  - old.txt: line 2: "flask=>2" is not a valid requirement: "=>" is not a version operator; did you mean ">="?',
        "  - new.txt: line 3: --hash=md5:abc is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest",
      ].join("\n"),
    );
    expect(out).toBe("");
  });

  test("a missing file fails naming it", async () => {
    fs.writeFileSync(path.join(dir, "new.txt"), "a==1\n");
    await expect(diffCommand("missing.txt", "new.txt", {}, io())).rejects.toThrow("cannot read missing.txt: no such file");
  });
});

describe("webshare plan-summary", () => {
  const planJson = {
    format_version: "1.2",
    planned_values: {},
    resource_changes: [
      {
        address: "terraform_data.venv_deploy_1",
        mode: "managed",
        type: "terraform_data",
        name: "venv_deploy_1",
        change: {
          actions: ["create"],
          before: null,
          after: { input: { kind: "venv", specVersion: 1, unit: "demo/venv", requirements: ["a"], packages: { a: "1.0" }, installSha256: "0".repeat(64) } },
          after_unknown: { id: true },
        },
      },
    ],
  };

  test("reads a file and prints Markdown, or JSON with --json", async () => {
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(planJson));
    await planSummaryCommand("plan.json", {}, io());
    expect(out).toContain("#### `demo/venv` (venv): new (deploys)");
    out = "";
    await planSummaryCommand("plan.json", { json: true }, io());
    expect(JSON.parse(out).units[0]).toMatchObject({ unit: "demo/venv", action: "create" });
  });

  test("- reads standard input", async () => {
    await planSummaryCommand("-", {}, { ...io(), readStdin: async () => JSON.stringify(planJson) });
    expect(out).toContain("| `a` | added |  | `1.0` |");
  });

  test.each([
    ["missing.json", undefined, "cannot read missing.json: no such file"],
    ["plan.tfplan", "PK\u0003\u0004binary", "plan.tfplan is a binary plan file, not its JSON"],
    ["broken.json", "{", "broken.json is not JSON"],
    ["state.json", JSON.stringify({ format_version: "1.0", values: {} }), "looks like state JSON"],
  ])("%s fails with a hint", async (file, content, message) => {
    if (content !== undefined) fs.writeFileSync(path.join(dir, file), content);
    const error = (await planSummaryCommand(file, {}, io()).catch((e: unknown) => e)) as WebshareError;
    expect(error).toBeInstanceOf(WebshareError);
    expect(error.message).toContain(message);
    expect(error.hint).toContain("tofu show -json");
  });

  test("the Markdown is cut to fit a GitHub comment unless --full", async () => {
    const [template] = planJson.resource_changes;
    const many = Array.from({ length: 1500 }, (_, i) => ({
      ...template,
      address: `terraform_data.v${i}_deploy_1`,
      change: { ...template!.change, after: { input: { ...template!.change.after.input, unit: `demo/venv${i}`, packages: { [`pkg${i}`]: "1.0" } } } },
    }));
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify({ ...planJson, resource_changes: many }));
    await planSummaryCommand("plan.json", {}, io());
    expect(out.length).toBeLessThanOrEqual(60_000);
    expect(out).toContain("`webshare plan-summary --full PLAN.json`");
    out = "";
    await planSummaryCommand("plan.json", { full: true }, io());
    expect(out.length).toBeGreaterThan(65_536);
    expect(out).toContain("#### `demo/venv999` (venv): new (deploys)");
  });

  test("--max-items must be a positive whole number", async () => {
    await expect(planSummaryCommand("plan.json", { maxItems: "0" }, io())).rejects.toThrow("--max-items");
  });
});
