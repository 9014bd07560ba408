import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureInitRecordScript } from "../../lib/lifecycle/serving-record";

/** A real venv reached through a symlink, as mod_wsgi's python-home reaches it. */
test("a venv's python records at start-up the real venv it started with, through the symlink", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare venv $(x) "));
  try {
    const real = path.join(root, "venvs", "00000000000000c1");
    execFileSync("/usr/bin/python3", ["-m", "venv", "--without-pip", real]);
    execFileSync("/bin/sh", ["-c", ensureInitRecordScript(path.join(real, "bin/python"))]);
    execFileSync("/bin/sh", ["-c", ensureInitRecordScript(path.join(real, "bin/python"))]); // idempotent
    fs.symlinkSync("venvs/00000000000000c1", path.join(root, "venv"));
    const out = execFileSync(path.join(root, "venv/bin/python"), ["-c", "import sys; print(sys.prefix); print(sys._webshare_init[0])"], { encoding: "utf8" });
    expect(out).toBe(`${path.join(root, "venv")}\n${fs.realpathSync(real)}\n`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
