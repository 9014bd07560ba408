import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineColorArgs } from "../../lib/cdktf/engine";

/** Clean CI logs: `webshare deploy` turns the engine's colours off unless its output is a terminal. */

test("engineColorArgs: -no-color unless a terminal without NO_COLOR", () => {
  expect(engineColorArgs(true, {})).toEqual([]);
  expect(engineColorArgs(false, {})).toEqual(["-no-color"]);
  expect(engineColorArgs(undefined, {})).toEqual(["-no-color"]);
  expect(engineColorArgs(true, { NO_COLOR: "1" })).toEqual(["-no-color"]);
});

describe("webshare deploy with its output in a pipe (a CI log)", () => {
  const REPO = path.resolve(__dirname, "../../..");
  let dir: string;
  let calls: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-engine-args-"));
    calls = path.join(dir, "engine-calls");
    // The app "synthesizes" one stack; the engine records its argv and reports no changes to plan.
    fs.writeFileSync(
      path.join(dir, "cdktf.json"),
      JSON.stringify({ app: `mkdir -p "$CDKTF_OUTDIR/stacks/demo" && echo '{"stacks":{"demo":{"workingDirectory":"stacks/demo"}}}' > "$CDKTF_OUTDIR/manifest.json"` }),
    );
    fs.writeFileSync(path.join(dir, "engine"), `#!/bin/sh\necho "$*" >> ${JSON.stringify(calls)}\nexit 0\n`, { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** `webshare deploy` with stdout and stderr in pipes, as in a CI job, and NO_COLOR unset. */
  const deploy = (...args: string[]) => {
    const env = { ...process.env };
    delete env.NO_COLOR;
    return spawnSync("node", [path.join(REPO, "dist/lib/cli/main.js"), "deploy", "--engine", path.join(dir, "engine"), ...args], { cwd: dir, encoding: "utf8", env });
  };

  test("init, plan and apply all get -no-color, and the log has no escape character", () => {
    const planned = deploy();
    const applied = deploy("--auto-approve");
    expect([planned.status, applied.status]).toEqual([0, 0]);
    const argvs = fs.readFileSync(calls, "utf8").trim().split("\n");
    expect(argvs.map((a) => a.split(" ")[0])).toEqual(["init", "plan", "init", "apply"]);
    for (const argv of argvs) expect(argv.split(" ")).toContain("-no-color");
    expect(`${planned.stdout}${planned.stderr}${applied.stdout}${applied.stderr}`).not.toContain("\x1b");
  });
});
