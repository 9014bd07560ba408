import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { errors, Place, WebshareError } from "../../lib/errors";
import type { ExecResult, FilesAndScript, RemoteSession, UploadFile } from "../../lib/ssh/remote-session";
import type { HostSpec } from "../../lib/spec";
import { runFramed } from "../../lib/ssh/framing";

/**
 * The middle test tier's host: a RemoteSession that runs the generated scripts with /bin/sh
 * on this machine, in a temporary "home" directory. The lifecycle code cannot tell it from
 * SSH: same scripts, same quoting, same errors (a failed command, a dropped connection).
 * Tests can drop it at a named step to play an interrupt or an outage.
 */
export class LocalShellSession implements RemoteSession {
  readonly target = "tester@middle-tier";
  readonly hostKey = "SHA256:middle-tier";
  /** Every step name run, in order: what a test asserts the flow did. */
  readonly steps: string[] = [];
  private dropped = false;
  /** Drop the "connection" when a step of this name starts (it fails as connectionLost). */
  dropAt?: string;
  /**
   * Shell text run before every command, as a login shell runs ~/.bashrc before the command
   * sshd hands it (e.g. `echo Welcome`): what real hosts print in front of our output.
   */
  startupNoise?: string;

  constructor(readonly home: string) {}

  private check(place: Place, step: string): void {
    this.steps.push(step);
    if (this.dropAt === step) this.dropped = true;
    if (this.dropped) throw errors.connectionLost(place, step);
  }

  async run(place: Place, step: string, script: string, options: { stdin?: string } = {}): Promise<ExecResult> {
    const result = await this.runRaw(place, step, script, options.stdin);
    if (result.code !== 0) throw errors.remoteCommandFailed(place, step, script, result.code, `${result.stdout}\n${result.stderr}`.trim());
    return result;
  }

  runRaw(place: Place, step: string, script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    this.check(place, step);
    // Framed like HostSession's commands, so startup noise is cut off the same way.
    return runFramed((framed, input) => this.sh(this.startupNoise === undefined ? framed : `${this.startupNoise}\n${framed}`, input), script, stdin);
  }

  private sh(script: string, stdin?: string): Promise<ExecResult & { code: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", script], { cwd: this.home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.home, LANG: "C.UTF-8" } });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ stdout, stderr, code: code ?? 255 }));
      // A script that does not read its stdin may exit before it is written.
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin ?? "");
    });
  }

  async writeFileAtomic(place: Place, step: string, remotePath: string, content: string | Buffer, mode = 0o600): Promise<void> {
    this.check(place, step);
    const temp = `${remotePath}.webshare-tmp-${process.pid}`;
    try {
      fs.writeFileSync(temp, content, { mode });
      fs.renameSync(temp, remotePath);
    } catch (e) {
      throw new WebshareError(`${place.unit} on ${place.target}: step "${step}" failed: cannot write ${remotePath}: ${(e as Error).message}`);
    }
  }

  async putFiles(place: Place, step: string, files: UploadFile[]): Promise<void> {
    if (files.length === 0) return;
    this.check(place, step);
    this.write(files);
  }

  /** One step, as the agent makes it one exchange: before, the files, the script. */
  async runWithFiles(place: Place, step: string, request: FilesAndScript): Promise<ExecResult & { code: number }> {
    this.check(place, step);
    if (request.before !== undefined) {
      const before = await runFramed((framed, input) => this.sh(framed, input), request.before);
      if (before.code !== 0) throw errors.remoteCommandFailed(place, step, request.before, before.code, `${before.stdout}\n${before.stderr}`.trim());
    }
    this.write(request.files);
    return runFramed((framed, input) => this.sh(framed, input), request.script, request.stdin);
  }

  private write(files: readonly UploadFile[]): void {
    for (const f of files) {
      const temp = "content" in f && f.atomic === true ? `${f.remote}.webshare-tmp-${process.pid}` : f.remote;
      if ("local" in f) fs.copyFileSync(f.local, temp);
      else fs.writeFileSync(temp, f.content);
      fs.chmodSync(temp, f.mode ?? 0o644);
      if (temp !== f.remote) fs.renameSync(temp, f.remote);
    }
  }

  dispose(): void {
    this.dropped = true;
  }
}

/** A fresh temporary home for one test. */
export function tempHome(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(require("node:os").tmpdir()), `${prefix}-`));
}

/** The host spec of a middle-tier home: managed Apache, Debian's Python, no mod_wsgi check. */
export function middleTierHost(home: string, overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    name: "t/host",
    connection: { host: "middle-tier", port: 22, user: "tester", useAgent: false, hostKey: "SHA256:middle-tier", connectTimeoutSeconds: 10 },
    home,
    python: "/usr/bin/python3",
    modWsgiModules: [],
    apache: { mode: "managed" },
    stateDir: ".webshare",
    ...overrides,
  };
}
