import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { CdktfProject, RunResult } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";

/**
 * Secrets never leak: deploy with a passphrase-protected key, a database.yml holding a
 * password, a secret environment value and a secret file (both from variables of the
 * deploying environment), then search everything a user, a reviewer or a state backend would see.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const PASSPHRASE_VAR = "WEBSHARE_TEST_KEY_PASSPHRASE";
let password: string;
const SECRET_ENV_VAR = "WEBSHARE_TEST_APP_SECRET";
const SECRET_FILE_VAR = "WEBSHARE_TEST_API_TOKEN";
const appSecret = `appsecret-${randomBytes(12).toString("hex")}`;
const apiToken = `apitoken-${randomBytes(12).toString("hex")}`;
let extraEnv: Record<string, string>;
const outputs: RunResult[] = [];

function writeDatabaseYml(): void {
  password = `pw-${randomBytes(12).toString("hex")}`;
  fs.mkdirSync(path.join(project.dir, "secrets"), { recursive: true });
  fs.writeFileSync(path.join(project.dir, "secrets/database.yml"), `adapter: postgresql\npassword: ${password}\n`);
}

/** Every file under a directory, as text (state, synthesized JSON, plan JSON...). */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

function secrets(): string[] {
  const keyBody = fs.readFileSync(target.keyWithPassphrase, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
  return [password, target.passphrase, appSecret, apiToken, ...keyBody];
}

function expectNoSecretIn(haystacks: Record<string, string>): void {
  const hits: string[] = [];
  for (const [where, text] of Object.entries(haystacks)) {
    for (const secret of secrets()) if (text.includes(secret)) hits.push(`${where} contains ${secret.slice(0, 6)}...`);
  }
  expect(hits).toEqual([]);
}

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "secrets");
  project.env.WEBSHARE_KEY = target.keyWithPassphrase;
  project.env.WEBSHARE_KEY_PASSPHRASE_ENV = PASSPHRASE_VAR;
  project.env.WEBSHARE_DATABASE_YML = "secrets/database.yml";
  project.env.WEBSHARE_SECRET_ENV = `DEMO_SECRET=${SECRET_ENV_VAR}`;
  project.env.WEBSHARE_SECRET_FILES = `private/api.token=${SECRET_FILE_VAR}`;
  extraEnv = { [PASSPHRASE_VAR]: target.passphrase, [SECRET_ENV_VAR]: appSecret, [SECRET_FILE_VAR]: apiToken };
  writeDatabaseYml();
}, 120_000);

afterAll(() => project?.remove());

test("deploy with a passphrase key installs database.yml with mode 0600", async () => {
  outputs.push(project.cdktf(["plan", "secrets"], extraEnv));
  const result = project.deploy(extraEnv);
  outputs.push(result);
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/install database\.yml \(private\/database\.yml, mode 0600\)/);
  const installed = path.join(target.home, "private/database.yml");
  expect(fs.readFileSync(installed, "utf8")).toBe(`adapter: postgresql\npassword: ${password}\n`);
  expect(fs.statSync(installed).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(path.join(target.home, "private/api.token"), "utf8")).toBe(apiToken);
  expect(fs.readFileSync(path.join(target.home, "private/secrets/public.json"), "utf8")).toBe(`{"DEMO_SECRET":"${appSecret}"}\n`);
  for (const f of ["private/api.token", "private/secrets/public.json"]) expect([f, fs.statSync(path.join(target.home, f)).mode & 0o777]).toEqual([f, 0o600]);
  expect((await httpGet(target.url)).status).toBe(200);
});

test("a new password shows in the plan as a changed digest only, and is deployed", () => {
  writeDatabaseYml();
  const plan = project.cdktf(["plan", "secrets"], extraEnv);
  outputs.push(plan);
  expect(plan.output).toMatch(/~ digest = "[0-9a-f]{64}" -> "[0-9a-f]{64}"/);
  const result = project.deploy(extraEnv);
  outputs.push(result);
  expect(result.code).toBe(0);
  expect(fs.readFileSync(path.join(target.home, "private/database.yml"), "utf8")).toContain(password);
});

test("no key material, passphrase or password in synthesized JSON, state, plan/apply or CLI output", () => {
  const haystacks: Record<string, string> = {};
  for (const file of filesUnder(path.join(project.dir, "cdktf.out")).filter((f) => f.endsWith(".json"))) haystacks[file] = fs.readFileSync(file, "utf8");
  for (const file of fs.readdirSync(project.dir).filter((f) => f.includes("tfstate"))) haystacks[file] = fs.readFileSync(path.join(project.dir, file), "utf8");
  outputs.forEach((o, i) => (haystacks[`cdktf output ${i}`] = o.output));
  expect(Object.keys(haystacks).some((k) => k.includes("tfstate"))).toBe(true);
  expect(Object.keys(haystacks).some((k) => k.endsWith("cdk.tf.json"))).toBe(true);
  expectNoSecretIn(haystacks);
  // Control: the search does find each kind of secret when one is there.
  for (const planted of [password, target.passphrase, appSecret, apiToken, secrets()[4]]) expect(() => expectNoSecretIn({ planted: `x${planted}x` })).toThrow();
});

test("a missing passphrase variable fails naming the variable, not showing any secret", () => {
  project.write("app.py", project.read("app.py") + "\n# change\n");
  const result = project.deploy({ ...extraEnv, [PASSPHRASE_VAR]: "" });
  expect(result.code).not.toBe(0);
  expect(result.output).toContain(`cannot connect to ${target.user}@${target.host}:${target.port}: `);
  expect(result.output).toMatch(/(passphrase|decrypt|parse)/i);
  expectNoSecretIn({ output: result.output });
});
