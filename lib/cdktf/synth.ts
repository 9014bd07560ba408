import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errors, tail } from "../errors";
import { exitText, runLocal } from "../local-process";

/**
 * Synthesize a cdktf app the way `cdktf synth` runs it: the app command through the local
 * shell, in the project directory, with CDKTF_OUTDIR naming where to write. Without an
 * outdir the output goes to a fresh temp dir (removed by `cleanup`), so the project's own
 * cdktf.out is never touched; `webshare deploy` passes the project's outdir instead.
 */
export interface SynthResult {
  readonly outdir: string;
  readonly cleanup: () => void;
}

export async function synthesize(appCommand: string, cwd: string, env: NodeJS.ProcessEnv, into?: string): Promise<SynthResult> {
  const outdir = into ?? fs.mkdtempSync(path.join(os.tmpdir(), "webshare-synth-"));
  const cleanup = into === undefined ? () => fs.rmSync(outdir, { recursive: true, force: true }) : () => undefined;
  // Local and user-given, like cdktf.json's "app", run through the shell as cdktf does;
  // remote commands never come through here.
  const run = await runLocal("/bin/sh", ["-c", appCommand], { cwd, env: { ...env, CDKTF_OUTDIR: outdir }, passThrough: false });
  if (run.code !== 0) {
    cleanup();
    throw errors.synthFailed(appCommand, exitText(run.code), tail(run.output));
  }
  return { outdir, cleanup };
}
