import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";

/**
 * Self-managed Apache: the deploy installs the app's config into the conf dir, config-tests
 * it, reloads gracefully, and removes it again on destroy.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));

beforeAll(() => {
  target = localHost().self;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "selfsite");
}, 120_000);

afterAll(() => project?.remove());

test("deploy installs the Apache config, reloads, and the app serves", async () => {
  const result = project.deploy();
  expect(result.code).toBe(0);
  expect(result.output).toContain(`install Apache config (${target.confDir}/webshare-selfsite-app.conf)`);
  const conf = fs.readFileSync(path.join(target.confDir!, "webshare-selfsite-app.conf"), "utf8");
  expect(conf).toContain(`WSGIDaemonProcess webshare-selfsite-app python-home=${target.home}/private/venv python-path=${target.home}/public`);
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
  expect((await httpGet(new URL("static/hello.txt", target.url).toString())).body).toContain("static");
});

test("a config Apache rejects is not installed: Apache's own message, old config and site stay", async () => {
  const confFile = path.join(target.confDir!, "webshare-selfsite-app.conf");
  const before = fs.readFileSync(confFile, "utf8");
  const result = project.deploy({ WEBSHARE_DAEMON_USER: "nosuchuser" });
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`selfsite/app on ${target.user}@${target.host}:${target.port}: Apache rejected the new configuration; the old configuration stays installed and Apache keeps serving`);
  expect(result.output).toContain("bad user name nosuchuser");
  expect(fs.readFileSync(confFile, "utf8")).toBe(before);
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
});

test("mod_wsgi timeouts, lang and locale reach WSGIDaemonProcess and Apache takes them; the verify prints the daemon's rss and warns above 80% of memoryWarnBytes", async () => {
  const result = project.deploy({
    WEBSHARE_STARTUP_TIMEOUT: "15",
    WEBSHARE_REQUEST_TIMEOUT: "60",
    WEBSHARE_GRACEFUL_TIMEOUT: "5",
    WEBSHARE_DAEMON_LOCALE: "C.UTF-8",
    // 1 MiB: any Python daemon is above 80% of it, so the warning must show.
    WEBSHARE_MEMORY_WARN_BYTES: String(1 << 20),
  });
  expect(result.code).toBe(0);
  const conf = fs.readFileSync(path.join(target.confDir!, "webshare-selfsite-app.conf"), "utf8");
  expect(conf).toMatch(/^WSGIDaemonProcess webshare-selfsite-app .* startup-timeout=15 request-timeout=60 graceful-timeout=5 display-name=%\{GROUP\} lang=C\.UTF-8 locale=C\.UTF-8$/m);
  // Self-managed: Apache runs as the user, so no user= (a non-root Apache cannot switch).
  expect(conf).not.toMatch(/ user=/);
  expect(result.output).toMatch(/verify reload \(release [0-9a-f]{16} serves: pid \d+, process started \S+, rss \d+\.\d MiB\)/);
  expect(result.output).toMatch(/warning: daemon process \d+ uses \d+\.\d MiB of resident memory, above 80% of 1\.0 MiB \(healthCheck\.memoryWarnBytes\)/);
  const response = await httpGet(target.url);
  expect(response.status).toBe(200);
  expect(response.body).toContain("greeting 1.0.0");
});

test("an app that hangs at start in its daemon: Apache is reloaded and the old release proven serving before the tool says so", async () => {
  // Hangs only under mod_wsgi, so only the verify after the switch can catch it. In self mode
  // the user's Apache runs as the user: the switch back reloads it (which restarts the daemon
  // processes) instead of signalling the user's processes, the master among them.
  const app = project.read("app.py");
  project.write("app.py", `import sys, time\nif 'mod_wsgi' in sys.modules:\n    time.sleep(600)\n${app}`);
  try {
    const result = project.deploy({ WEBSHARE_HEALTH_TIMEOUT: "8" });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/reloaded Apache \(its daemon processes restart\): [0-9a-f]{16} did not fail with a steady error, so a process may hang in loading it/);
    expect(result.output).toMatch(/switched back to the previous release [0-9a-f]{16}, which serves again \(verified\)/);
    const responses = await Promise.all(Array.from({ length: 12 }, () => httpGet(target.url)));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    for (const response of responses) expect(response.body).toContain("greeting 1.0.0");
  } finally {
    project.write("app.py", app);
  }
});

test("destroy removes the config and Apache stops routing to the app", async () => {
  const result = project.cdktf(["destroy", "--auto-approve", "selfsite"]);
  expect(result.code).toBe(0);
  expect(fs.readdirSync(target.confDir!)).toEqual([]);
  const after = await httpGet(target.url);
  expect(after.status).toBe(403); // the base config denies everything no site claims
  expect(after.body).not.toContain("greeting");
});
