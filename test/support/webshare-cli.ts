import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { CdktfProject, RunResult } from "./cdktf-project";
import { REPO } from "./local-host";

/** Run the `webshare` CLI in the project directory, as a user does after `cdktf deploy`. */
export function webshare(project: CdktfProject, args: string[], extraEnv: Record<string, string> = {}): RunResult {
  const result = spawnSync("node", [path.join(REPO, "dist/lib/cli/main.js"), ...args], { cwd: project.dir, encoding: "utf8", timeout: 180_000, env: { ...process.env, ...project.env, ...extraEnv } });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
