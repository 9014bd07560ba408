import { spawnSync } from "node:child_process";
import { parseStaged, type Stage, stagedScript } from "../../lib/lifecycle/staged-script";

/** Several steps in one command (lifecycle/staged-script.ts), run by a real /bin/sh. */
const sh = (script: string) => {
  const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });
  return { stdout: r.stdout, code: r.status ?? 255 };
};
const stage = (name: string, script: string): Stage => ({ name, script });

describe("staged commands", () => {
  test("every stage's stdout comes back on its own, with the seconds the host measured", () => {
    const stages = [stage("seed", `printf '{"upload": []}\\n'`), stage("link", "true"), stage("check", "printf 'no newline ü'; sleep 0.2")];
    const r = sh(stagedScript(stages));
    expect(r.code).toBe(0);
    const parsed = parseStaged(stages, r.stdout, r.code);
    expect(parsed.failed).toBeUndefined();
    expect(parsed.done.map((d) => d.stdout)).toEqual(['{"upload": []}\n', "", "no newline ü"]);
    expect(parsed.done[2]!.seconds).toBeGreaterThanOrEqual(0.15);
    expect(parsed.done.every((d) => Number.isFinite(d.seconds) && d.seconds >= 0)).toBe(true);
  });

  test("a failing stage is named with its code and output; the stages after it do not run", () => {
    const stages = [stage("seed", "echo copied"), stage("link", "echo half; exit 9"), stage("check", "echo ran > /dev/stderr; exit 0")];
    const script = stagedScript(stages);
    const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });
    const parsed = parseStaged(stages, r.stdout, r.status!);
    expect(parsed.done.map((d) => d.stdout)).toEqual(["copied\n"]);
    expect(parsed.failed).toEqual({ stage: stages[1], code: 9, stdout: "half\n" });
    expect(r.stderr).toBe("");
  });

  test("a stage's exit and cd end or move only itself", () => {
    const stages = [stage("first", "cd / && exit 0"), stage("second", "pwd")];
    const r = spawnSync("/bin/sh", ["-c", stagedScript(stages)], { encoding: "utf8", cwd: "/tmp" });
    const parsed = parseStaged(stages, r.stdout, r.status!);
    expect(parsed.failed).toBeUndefined();
    expect(parsed.done[1]!.stdout).toBe("/tmp\n");
  });

  test("text the login shell printed before the first marker is not a stage's", () => {
    const stages = [stage("only", "echo mine")];
    const r = sh(`echo Welcome; ${stagedScript(stages)}`);
    expect(parseStaged(stages, r.stdout, r.code).done.map((d) => d.stdout)).toEqual(["mine\n"]);
  });

  test("a command that never started its stages fails the first one, with all it printed", () => {
    const stages = [stage("seed", "true"), stage("check", "true")];
    expect(parseStaged(stages, "sh: cannot run\n", 127).failed).toEqual({ stage: stages[0], code: 127, stdout: "sh: cannot run\n" });
  });
});
