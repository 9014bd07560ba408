import { App, TerraformStack, Testing } from "cdktf";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import { WebshareError } from "../../lib/errors";
import { hashTree } from "../../lib/local-files";

const FINGERPRINT = "SHA256:" + "A".repeat(43);
const base = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-tree-"));
let n = 0;

/** A fresh app source with app.py, plus a private 0600 file beside (outside) it. */
function appTree(): { source: string; secret: string } {
  const dir = path.join(base, `case${n++}`);
  const source = path.join(dir, "app");
  fs.mkdirSync(path.join(source, "static"), { recursive: true });
  fs.writeFileSync(path.join(source, "app.py"), "def app(environ, start_response):\n    return []\n");
  fs.writeFileSync(path.join(source, "static", "site.css"), "body {}\n");
  const secret = path.join(dir, "id_ed25519");
  fs.writeFileSync(secret, "PRIVATE KEY\n", { mode: 0o600 });
  return { source, secret };
}

function app(source: string, exclude?: string[]) {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: FINGERPRINT, apache: ApacheMode.managed() });
  const venv = new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
  new WsgiApp(stack, "blog", { host, venv, source, entry: "app:app", ...(exclude && { exclude }) });
  return stack;
}

function refusal(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    expect(e).toBeInstanceOf(WebshareError);
    return (e as Error).message;
  }
  throw new Error("expected a refusal, but it was accepted");
}

describe("nothing outside the source tree is uploaded", () => {
  test("a symlink to a file outside the tree is refused at synth, naming construct, link and target", () => {
    const { source, secret } = appTree();
    fs.symlinkSync(secret, path.join(source, "static", "key.txt"));
    const message = refusal(() => app(source));
    expect(message).toContain("s/blog: invalid props");
    expect(message).toContain(`source ${JSON.stringify(source)}: symlink "static/key.txt" -> ${JSON.stringify(secret)} points outside the source tree`);
    expect(message).not.toContain("PRIVATE KEY");
  });

  test("a relative link climbing out of the tree, and a directory link leaving it, are refused too", () => {
    const { source } = appTree();
    fs.symlinkSync("../id_ed25519", path.join(source, "key"));
    fs.symlinkSync("..", path.join(source, "parent"));
    const message = refusal(() => app(source));
    expect(message).toContain('symlink "key" -> "../id_ed25519" points outside the source tree');
    expect(message).toContain('symlink "parent" -> ".." points outside the source tree');
  });

  test("a symlink to a file inside the tree is uploaded with its target's content; a directory link inside is not followed", () => {
    const { source } = appTree();
    fs.symlinkSync("static/site.css", path.join(source, "style.css"));
    fs.symlinkSync("static", path.join(source, "assets"));
    const files = hashTree(source, []);
    const css = createHash("sha256").update("body {}\n").digest("hex");
    expect(files).toEqual({ "app.py": expect.any(String), "static/site.css": css, "style.css": css });
    expect(Testing.synth(app(source))).toContain('"style.css"');
  });

  test("a dangling symlink is refused with the construct and the file named, not a Node stack", () => {
    const { source } = appTree();
    fs.symlinkSync("gone.py", path.join(source, "old.py"));
    const message = refusal(() => app(source));
    expect(message).toMatch(/^s\/blog: invalid props:\n/);
    expect(message).toContain('symlink "old.py" -> "gone.py" is dangling (ENOENT)');
  });

  test("a file name that is not valid UTF-8 is refused, naming it", () => {
    const { source } = appTree();
    fs.writeFileSync(Buffer.concat([Buffer.from(source + "/caf"), Buffer.from([0xe9]), Buffer.from(".txt")]), "x");
    const message = refusal(() => app(source));
    expect(message).toContain("s/blog: invalid props");
    expect(message).toContain("(bytes 636166e92e747874) is not valid UTF-8");
  });

  test("an excluded link is not looked at", () => {
    const { source, secret } = appTree();
    fs.symlinkSync(secret, path.join(source, "key.pem"));
    expect(Testing.synth(app(source, ["key.pem"]))).not.toMatch(/"key.pem": "[0-9a-f]{64}"/);
  });

  test("apply's re-hash refuses a link that leaves the tree (added after synth)", () => {
    const { source, secret } = appTree();
    expect(Object.keys(hashTree(source, []))).toEqual(["app.py", "static/site.css"]);
    fs.symlinkSync(secret, path.join(source, "settings.py"));
    expect(() => hashTree(source, [])).toThrow(/the app source ".*" cannot be uploaded:\n  - symlink "settings.py" -> ".*id_ed25519" points outside the source tree/);
  });
});
