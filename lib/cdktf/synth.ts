import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errors, tail } from "../errors";

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

export async function synthesize(appCommand: string, cwd: string, env: NodeJS.ProcessEnv = process.env, into?: string): Promise<SynthResult> {
  const outdir = into ?? fs.mkdtempSync(path.join(os.tmpdir(), "webshare-synth-"));
  const cleanup = into === undefined ? () => fs.rmSync(outdir, { recursive: true, force: true }) : () => undefined;
  const output: Buffer[] = [];
  const code = await new Promise<number | string>((resolve) => {
    // Local and user-given, like cdktf.json's "app"; remote commands never come through here.
    const child = spawn(appCommand, { cwd, shell: true, env: { ...env, CDKTF_OUTDIR: outdir }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    child.on("error", (e) => resolve(e.message));
    child.on("close", (status, signal) => resolve(status ?? `killed by ${signal}`));
  });
  if (code !== 0) {
    cleanup();
    throw errors.synthFailed(appCommand, typeof code === "number" ? `exit ${code}` : code, tail(Buffer.concat(output).toString("utf8")));
  }
  return { outdir, cleanup };
}
