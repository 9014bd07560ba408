import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * How a provisioner learns it must stop, in real processes: a signal, its parent shell
 * killed (what Terraform does on Ctrl+C), or its output pipe closed.
 */
let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-interrupt-"))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Start `sh -c 'node child'`; the child writes why it stopped into a file. */
function start(): { shell: ReturnType<typeof spawn>; reason: () => Promise<string>; childPid: () => number } {
  const marker = path.join(root, "reason");
  const pidFile = path.join(root, "pid");
  const script = path.join(root, "child.js");
  fs.writeFileSync(
    script,
    [
      `const fs = require("fs");`,
      `const { watchInterrupts } = require(${JSON.stringify(path.join(__dirname, "../../lib/cli/interrupt.js"))});`,
      `watchInterrupts((reason) => { fs.writeFileSync(${JSON.stringify(marker)}, reason); process.exit(0); }, 50);`,
      `fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`,
      `setInterval(() => process.stdout.write("."), 20);`,
    ].join("\n"),
  );
  const shell = spawn("/bin/sh", ["-c", `node ${JSON.stringify(script)}; :`], { stdio: ["ignore", "pipe", "ignore"] });
  shell.stdout!.resume();
  const reason = async () => {
    for (let i = 0; i < 200 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    return fs.readFileSync(marker, "utf8");
  };
  return { shell, reason, childPid: () => Number(fs.readFileSync(pidFile, "utf8")) };
}

async function started(childPid: () => number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    try {
      return childPid();
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error("child did not start");
}

test("a signal", async () => {
  const run = start();
  process.kill(await started(run.childPid), "SIGTERM");
  expect(await run.reason()).toBe("SIGTERM");
});

test("the parent shell killed, as Terraform stops a provisioner", async () => {
  const run = start();
  await started(run.childPid);
  run.shell.kill("SIGKILL");
  expect(await run.reason()).toBe("its parent process ended");
});

test("its output closed, with the parent still there", async () => {
  const run = start();
  await started(run.childPid);
  run.shell.stdout!.destroy();
  expect(await run.reason()).toBe("its output was closed");
  run.shell.kill("SIGKILL");
});
