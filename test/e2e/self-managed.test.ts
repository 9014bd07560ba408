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

test("destroy removes the config and Apache stops routing to the app", async () => {
  const result = project.cdktf(["destroy", "--auto-approve", "selfsite"]);
  expect(result.code).toBe(0);
  expect(fs.readdirSync(target.confDir!)).toEqual([]);
  const after = await httpGet(target.url);
  expect(after.status).toBe(403); // the base config denies everything no site claims
  expect(after.body).not.toContain("greeting");
});
