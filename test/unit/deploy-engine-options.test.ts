import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineOptionArgs } from "../../lib/cdktf/engine-options";
import { stateLockConflict } from "../../lib/cdktf/state-lock";
import { deployCommand } from "../../lib/cli/deploy";
import { errorText } from "../../lib/errors";

// What OpenTofu 1.6.2 printed when a second apply met the first one's lock (copied from a real run).
const LOCKED = `
Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        cf138507-7d97-dd5b-71b7-6965ed7b3840
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.6.2
  Created:   2026-11-29 17:39:13.967360133 +0000 UTC
  Info:

OpenTofu acquires a state lock to protect the state from being written
by multiple users at the same time.`;

describe("engine options of webshare deploy", () => {
  test("-parallelism, -lock-timeout and -target reach plan and apply; a saved plan keeps its targets", () => {
    expect(engineOptionArgs({ parallelism: "2", lockTimeout: "10m", target: ["terraform_data.a", "terraform_data.b"] })).toEqual({
      plan: ["-parallelism=2", "-lock-timeout=10m", "-target=terraform_data.a", "-target=terraform_data.b"],
      apply: ["-parallelism=2", "-lock-timeout=10m", "-target=terraform_data.a", "-target=terraform_data.b"],
      applyPlanFile: ["-parallelism=2", "-lock-timeout=10m"],
    });
    expect(engineOptionArgs({})).toEqual({ plan: [], apply: [], applyPlanFile: [] });
    expect(engineOptionArgs({ lockTimeout: "1h30m" }).plan).toEqual(["-lock-timeout=1h30m"]);
  });

  test("bad values are refused with what is allowed", () => {
    expect(() => engineOptionArgs({ parallelism: "0" })).toThrow('--parallelism must be a whole number of at least 1, not "0"');
    expect(() => engineOptionArgs({ parallelism: "two" })).toThrow("--parallelism must be a whole number");
    expect(() => engineOptionArgs({ lockTimeout: "10" })).toThrow('--lock-timeout must be a duration such as 30s, 5m or 1h, not "10"');
    expect(() => engineOptionArgs({ target: ["-destroy"] })).toThrow('--target must be a resource address such as terraform_data.app_deploy_8C7201CF, not "-destroy"');
  });
});

describe("state-lock conflict", () => {
  test("read from the engine's output, plain or boxed and coloured", () => {
    expect(stateLockConflict(LOCKED)).toEqual({ id: "cf138507-7d97-dd5b-71b7-6965ed7b3840", who: "root@vm", operation: "OperationTypeApply", created: "2026-11-29 17:39:13.967360133 +0000 UTC" });
    const boxed = LOCKED.split("\n").map((line) => `\u001b[31m│\u001b[0m ${line}`).join("\n");
    expect(stateLockConflict(boxed)?.id).toBe("cf138507-7d97-dd5b-71b7-6965ed7b3840");
    expect(stateLockConflict("Error: something else")).toBeUndefined();
  });
});

describe("webshare deploy with a stand-in engine", () => {
  let dir: string;
  let engine: string;
  const calls = () => fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-deploy-options-"));
    // The app command writes a manifest with one stack, as cdktf synth does.
    const synth = `mkdir -p "$CDKTF_OUTDIR/stacks/s" && echo '{"stacks":{"s":{"workingDirectory":"stacks/s"}}}' > "$CDKTF_OUTDIR/manifest.json"`;
    fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ app: synth }));
    engine = path.join(dir, "engine");
    // Records each call; `apply` fails like a run that met another run's state lock when LOCKED is set.
    fs.writeFileSync(engine, `#!/bin/sh\necho "$*" >> ${JSON.stringify(path.join(dir, "calls"))}\nif [ "$1" = apply ] && [ -n "$LOCKED_OUTPUT" ]; then cat "$LOCKED_OUTPUT" >&2; exit 1; fi\nif [ "$1" = plan ]; then exit 2; fi\nexit 0\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "locked.txt"), LOCKED);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const io = (env: NodeJS.ProcessEnv = {}) => ({ cwd: dir, env: { PATH: process.env.PATH, NO_COLOR: "1", ...env }, log: () => undefined, ask: async () => "yes" });

  test("--auto-approve: the options reach apply", async () => {
    await expect(deployCommand("s", { autoApprove: true, engine, parallelism: "3", lockTimeout: "30s", target: ["terraform_data.x"] }, io())).resolves.toBe(0);
    expect(calls()).toEqual(["init -input=false -no-color", "apply -auto-approve -input=false -no-color -parallelism=3 -lock-timeout=30s -target=terraform_data.x"]);
  });

  test("with a plan: the options reach plan, and apply of the saved plan gets all but -target", async () => {
    await expect(deployCommand("s", { engine, parallelism: "1", target: ["terraform_data.x"] }, io())).resolves.toBe(0);
    const [, plan, apply] = calls();
    expect(plan).toMatch(/^plan -input=false -detailed-exitcode -out=\S+\/plan -no-color -parallelism=1 -target=terraform_data.x$/);
    expect(apply).toMatch(/^apply -input=false -no-color -parallelism=1 \S+\/plan$/);
  });

  test("a lock conflict says that nothing ran, who holds the lock and what to do", async () => {
    const failure = deployCommand("s", { autoApprove: true, engine }, io({ LOCKED_OUTPUT: path.join(dir, "locked.txt") }));
    await expect(failure).rejects.toThrow(/apply did not run: another run holds the state lock of this stack \(root@vm, OperationTypeApply, since 2026-11-29.*\); nothing was planned or applied and no host was touched/);
    const text = errorText(await failure.catch((e: unknown) => e));
    expect(text).toContain("pass --lock-timeout 10m to wait for the lock");
    expect(text).toContain("force-unlock cf138507-7d97-dd5b-71b7-6965ed7b3840");
  });

  test("the CLI starts the synth before it loads SSH, the lifecycle and the spec's schema (they load while the app synthesizes)", () => {
    // Records the modules this process had loaded when it spawned the synth (`/bin/sh -c <app>`), and at exit.
    const preload = path.join(dir, "preload.js");
    fs.writeFileSync(
      preload,
      `const cp = require("node:child_process"); const spawn = cp.spawn; let atSynth;
cp.spawn = function (command, args, ...rest) { if (atSynth === undefined && command === "/bin/sh") atSynth = Object.keys(require.cache); return spawn.call(this, command, args, ...rest); };
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(path.join(dir, "modules.json"))}, JSON.stringify({ atSynth, atExit: Object.keys(require.cache) })));`,
    );
    const cli = path.resolve(__dirname, "../../lib/cli/main.js");
    execFileSync(process.execPath, ["-r", preload, cli, "deploy", "s", "--auto-approve", "--engine", engine], { cwd: dir, env: { PATH: process.env.PATH, NO_COLOR: "1", HOME: dir }, stdio: "pipe" });
    const { atSynth, atExit } = JSON.parse(fs.readFileSync(path.join(dir, "modules.json"), "utf8")) as { atSynth: string[]; atExit: string[] };
    expect(atSynth.some((m) => m.endsWith("/lib/cdktf/deploy.js"))).toBe(true); // taken in the deploy, at its synth
    const heavy = [/\/node_modules\/ssh2\//, /\/node_modules\/zod\//, /\/lib\/lifecycle\//, /\/lib\/ssh\/session\.js$/, /\/lib\/host\/provision/];
    for (const module of heavy) {
      expect(atSynth.filter((m) => module.test(m))).toEqual([]);
      // The broker started after the synth began, so they did load: the check above can see them.
      expect(atExit.some((m) => module.test(m))).toBe(true);
    }
  });

  test("bad options fail before anything runs", async () => {
    await expect(deployCommand("s", { autoApprove: true, engine, lockTimeout: "soon" }, io())).rejects.toThrow("--lock-timeout must be a duration");
    expect(fs.existsSync(path.join(dir, "calls"))).toBe(false);
  });
});
