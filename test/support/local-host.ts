import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

/**
 * The real local webshare host the end-to-end tests deploy to: sshd + Apache + mod_wsgi on
 * loopback, started by the project's own scripts (scripts/host/up.sh).
 */
export const REPO = path.resolve(__dirname, "..", "..", "..");
export const HOST_DIR = process.env.WEBSHARE_HOST_DIR ?? "/var/tmp/webshare-host";

export interface Target {
  host: string;
  port: number;
  user: string;
  key: string;
  keyWithPassphrase: string;
  passphrase: string;
  hostKey: string;
  home: string;
  python: string;
  mismatchedPython: string;
  url: string;
  apache: "managed" | "self";
  confDir?: string;
  testCommand?: string;
  reloadCommand?: string;
  errorLog: string;
}

/** The WEBSHARE_* variables main.ts (and bench stacks) read to reach a target over SSH. */
export function connectionEnv(target: Target): Record<string, string> {
  return {
    WEBSHARE_HOST: target.host,
    WEBSHARE_PORT: String(target.port),
    WEBSHARE_USER: target.user,
    WEBSHARE_KEY: target.key,
    WEBSHARE_HOST_KEY: target.hostKey,
    WEBSHARE_HOME: target.home,
  };
}

let started = false;
/** Left in the host's state dir when tests started it; test/stop-hosts.js stops such a host. */
export const STARTED_MARK = path.join(HOST_DIR, "started-by-tests");

/** Start (or keep) the local host and return both targets. */
export function localHost(): { managed: Target; self: Target } {
  if (!started) {
    execFileSync("bash", [path.join(REPO, "scripts/host/up.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    // The suite's teardown (test/stop-hosts.js) stops what THIS test run started: the mark
    // carries the run's id (test/run-id.js), so another run's teardown leaves it alone.
    fs.writeFileSync(STARTED_MARK, `${process.env.WEBSHARE_TEST_RUN_ID ?? `pid-${process.pid}`}\n`);
    started = true;
  }
  return JSON.parse(fs.readFileSync(path.join(HOST_DIR, "env.json"), "utf8"));
}

/** Wipe a user's deployed state so a test starts from an empty home. */
export function resetHome(user: string): void {
  execFileSync("bash", [path.join(REPO, "scripts/host/reset.sh"), user], { stdio: ["ignore", "ignore", "inherit"] });
}

/** Write the test wheelhouse (tiny pure-Python wheels) into `dir`. */
export function makeWheelhouse(dir: string, padKb = 0): void {
  const args = [path.join(REPO, "scripts/host/make-wheelhouse.py"), dir, ...(padKb > 0 ? ["--pad-kb", String(padKb)] : [])];
  execFileSync("python3", args, { stdio: ["ignore", "ignore", "inherit"] });
}

/** Run a command on the host as the target user over real SSH (what an operator would do). */
export function sshRun(target: Target, command: string): string {
  return execFileSync(
    "ssh",
    ["-i", target.key, "-p", String(target.port), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${path.join(HOST_DIR, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes", `${target.user}@${target.host}`, command],
    { encoding: "utf8" },
  );
}

/**
 * One GET on a fresh connection. (A pooled keep-alive socket can be closed by Apache while
 * spawnSync blocks the event loop, and the next request would fail on the dead socket.)
 */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 15000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on("error", reject);
  });
}
