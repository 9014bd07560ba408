import { App, Testing, TerraformStack } from "cdktf";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Construct } from "constructs";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import { TerraformData } from "../../constructs/terraform-data";

/**
 * Shared files and secrets per app (synth): each app its own database.yml path, secret
 * environment values and secret files whose values never reach the JSON (only variable
 * NAMES and keyed hashes), sharedPaths, and construct dependencies that reach the engine as
 * depends_on.
 */
const FINGERPRINT = "SHA256:" + "A".repeat(43);
const SECRET = `s3cret-${process.pid}-value`;
const FILE_SECRET = `-----BEGIN KEY-----\nfile-${process.pid}-secret\n-----END KEY-----\n`;
const ENV = { WEBSHARE_TEST_SYNTH_SECRET: SECRET, WEBSHARE_TEST_SYNTH_DB: `db-${process.pid}-pw`, WEBSHARE_TEST_SYNTH_PEM: FILE_SECRET };
const BLOG = "test/fixtures/apps/blog";
const API = "test/fixtures/apps/api";

beforeAll(() => Object.assign(process.env, ENV));
afterAll(() => {
  for (const name of Object.keys(ENV)) delete process.env[name];
});

function setup() {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "webshare-synth-")), skipValidation: false });
  const stack = new TerraformStack(app, "s");
  const host = new WebshareHost(stack, "host", { host: "web.example.com", user: "wwwshare", privateKeyPath: "~/.ssh/id_ed25519", hostKey: FINGERPRINT, apache: ApacheMode.managed() });
  const venv = new Venv(stack, "venv", { host, requirements: `${BLOG}/requirements.txt` });
  return { stack, host, venv };
}

type Resource = { input: any; depends_on?: string[] };
function deploys(stack: TerraformStack): Record<string, Resource> {
  const all = JSON.parse(Testing.synth(stack)).resource.terraform_data as Record<string, Resource>;
  return Object.fromEntries(Object.entries(all).filter(([name, r]) => name.includes("_deploy_") && r.input?.unit !== undefined).map(([, r]) => [r.input.unit, r]));
}
/** The `deploy` resource name of a unit, as depends_on names it. */
const deployRef = (stack: TerraformStack, unit: string) => {
  const all = JSON.parse(Testing.synth(stack)).resource.terraform_data as Record<string, Resource>;
  const name = Object.entries(all).find(([n, r]) => n.includes("_deploy_") && r.input?.unit === unit)![0];
  return `terraform_data.${name}`;
};

describe("databaseYml per app", () => {
  test("two apps on one host, each with its own path", () => {
    const { stack, host, venv } = setup();
    new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", databaseYml: { fromEnv: { password: "WEBSHARE_TEST_SYNTH_DB" }, path: "private/blog/database.yml" } });
    new WsgiApp(stack, "api", { host, venv, source: API, entry: "service:application", mount: "/api", appDir: "apps/api", databaseYml: { fromEnv: { password: "WEBSHARE_TEST_SYNTH_DB" }, path: "private/api/database.yml" } });
    expect(host.node.validate()).toEqual([]);
    const units = deploys(stack);
    expect(units["s/blog"]!.input.databaseYml.path).toBe("private/blog/database.yml");
    expect(units["s/api"]!.input.databaseYml.path).toBe("private/api/database.yml");
  });

  test("the same path twice is refused at synth, naming the prop that gives one its own", () => {
    const { stack, host, venv } = setup();
    new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", databaseYml: { fromEnv: { password: "WEBSHARE_TEST_SYNTH_DB" } } });
    // Refused where the second app is made (not a deferred validation that would advise skipValidation).
    expect(() => new WsgiApp(stack, "api", { host, venv, source: API, entry: "service:application", mount: "/api", appDir: "apps/api", databaseYml: { fromEnv: { password: "WEBSHARE_TEST_SYNTH_DB" } } })).toThrow(
      's/api databaseYml.path "private/database.yml" is the same path as s/blog databaseYml.path "private/database.yml" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another databaseYml.path on one of them)',
    );
    expect(host.node.validate()).toEqual([]);
  });

  test("a path outside the home or inside the app's own releases is refused", () => {
    const { stack, host, venv } = setup();
    expect(() => new WsgiApp(stack, "a", { host, venv, source: BLOG, entry: "app:app", databaseYml: { fromEnv: { p: "WEBSHARE_TEST_SYNTH_DB" }, path: "../x/database.yml" } })).toThrow("databaseYml.path");
    expect(() => new WsgiApp(stack, "b", { host, venv, source: BLOG, entry: "app:app", databaseYml: { fromEnv: { p: "WEBSHARE_TEST_SYNTH_DB" }, path: "public/database.yml" } })).toThrow(
      'appDir "public" contains databaseYml.path "public/database.yml"',
    );
  });
});

describe("secretEnvironment and secretFiles", () => {
  function secretApp() {
    const { stack, host, venv } = setup();
    const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "webshare-secret-")), "token.txt");
    fs.writeFileSync(local, `token-${process.pid}-from-file`);
    new WsgiApp(stack, "blog", {
      host,
      venv,
      source: BLOG,
      entry: "app:app",
      environment: { MODE: "prod" },
      secretEnvironment: { SECRET_KEY: "WEBSHARE_TEST_SYNTH_SECRET" },
      secretFiles: { "private/keys/app.pem": { fromEnv: "WEBSHARE_TEST_SYNTH_PEM" }, "private/keys/token": { file: local } },
    });
    return { stack, local };
  }

  test("the JSON holds variable NAMES, file paths and keyed hashes, never a value", () => {
    const { stack, local } = secretApp();
    const json = Testing.synth(stack);
    for (const secret of [SECRET, FILE_SECRET, "file-" + process.pid, `token-${process.pid}-from-file`]) expect(json).not.toContain(secret);
    const input = deploys(stack)["s/blog"]!.input;
    expect(input.secretEnvironment).toEqual({ path: "private/secrets/public.json", fromEnv: { SECRET_KEY: "WEBSHARE_TEST_SYNTH_SECRET" }, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(input.secretFiles).toEqual([
      { path: "private/keys/app.pem", fromEnv: "WEBSHARE_TEST_SYNTH_PEM", digest: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { path: "private/keys/token", file: local, digest: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    // The environment prop stays as it was: values in plain sight, and no secret among them.
    expect(input.environment).toEqual({ MODE: "prod" });
  });

  test("a new secret value changes only its digest", () => {
    const before = deploys(secretApp().stack)["s/blog"]!.input;
    process.env.WEBSHARE_TEST_SYNTH_SECRET = SECRET + "2";
    try {
      const after = deploys(secretApp().stack)["s/blog"]!.input;
      expect(after.secretEnvironment.digest).not.toBe(before.secretEnvironment.digest);
      expect({ ...after.secretEnvironment, digest: "" }).toEqual({ ...before.secretEnvironment, digest: "" });
      expect(after.entryPointSha256).toBe(before.entryPointSha256);
    } finally {
      process.env.WEBSHARE_TEST_SYNTH_SECRET = SECRET;
    }
  });

  test("a missing variable or file is named, with no value; one variable set twice is refused", () => {
    const { stack, host, venv } = setup();
    const base = { host, venv, source: BLOG, entry: "app:app" };
    expect(() => new WsgiApp(stack, "a", { ...base, secretEnvironment: { SECRET_KEY: "WEBSHARE_TEST_SYNTH_UNSET" } })).toThrow(
      "s/a: invalid props:\n  - secretEnvironment needs environment variable WEBSHARE_TEST_SYNTH_UNSET, which is not set",
    );
    expect(() => new WsgiApp(stack, "b", { ...base, secretFiles: { "private/k": { file: "nope/k" } } })).toThrow('secretFiles["private/k"] file "nope/k" cannot be read (ENOENT)');
    expect(() => new WsgiApp(stack, "c", { ...base, environment: { SECRET_KEY: "x" }, secretEnvironment: { SECRET_KEY: "WEBSHARE_TEST_SYNTH_SECRET" } })).toThrow(
      "secretEnvironment sets SECRET_KEY, which environment sets too",
    );
    expect(() => new WsgiApp(stack, "d", { ...base, secretFiles: { ".ssh/authorized_keys": { fromEnv: "WEBSHARE_TEST_SYNTH_PEM" } } })).toThrow('secretFiles[".ssh/authorized_keys"]');
    expect(() => new WsgiApp(stack, "e", { ...base, secretEnvironment: { "NOT A NAME": "WEBSHARE_TEST_SYNTH_SECRET" } })).toThrow("secretEnvironment");
  });

  test("two apps writing one secret file are refused", () => {
    const { stack, host, venv } = setup();
    new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", secretFiles: { "private/shared.key": { fromEnv: "WEBSHARE_TEST_SYNTH_PEM" } } });
    expect(() => new WsgiApp(stack, "api", { host, venv, source: API, entry: "service:application", mount: "/api", appDir: "apps/api", secretFiles: { "private/shared.key": { fromEnv: "WEBSHARE_TEST_SYNTH_PEM" } } })).toThrow(
      's/api secretFiles["private/shared.key"] "private/shared.key" is the same path as s/blog secretFiles["private/shared.key"] "private/shared.key" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another secretFiles["private/shared.key"] on one of them)',
    );
  });
});

describe("sharedPaths", () => {
  test("listed in the spec with the app's shared dir outside its releases", () => {
    const { stack, host, venv } = setup();
    new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", sharedPaths: ["uploads/", "data/db"] });
    expect(deploys(stack)["s/blog"]!.input.sharedPaths).toEqual({ dir: "private/shared/public", paths: ["uploads", "data/db"] });
  });

  test("overlaps with app files, static dirs, the entry point or each other are refused", () => {
    const { stack, host, venv } = setup();
    const base = { host, venv, source: BLOG, entry: "app:app", staticDirs: { "/static": "static" } };
    const problems = (sharedPaths: string[]) => {
      try {
        new WsgiApp(stack, `x${Math.random().toString(36).slice(2)}`, { ...base, sharedPaths });
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(problems(["app.py"])).toContain('sharedPaths entry "app.py" is also in the app source ("app.py")');
    expect(problems(["app.py/x"])).toContain('sharedPaths entry "app.py/x" is also in the app source ("app.py")');
    expect(problems(["static/media"])).toContain('sharedPaths entry "static/media" overlaps the static directory "static"');
    expect(problems(["wwwshare.wsgi"])).toContain('sharedPaths entry "wwwshare.wsgi" is the generated entry point');
    expect(problems(["data", "data/x"])).toContain('sharedPaths entry "data/x" overlaps "data"');
    expect(problems(["../up"])).toContain('sharedPaths entry "../up" must be a directory path inside the release');
    expect(problems(["/abs"])).toContain('sharedPaths entry "/abs" must be a directory path inside the release');
    // Excluded source files are not uploaded: no conflict.
    expect(problems(["__pycache__"])).toBe("");
  });
});

describe("dependsOn reaches the engine", () => {
  test("the prop and node.addDependency both become depends_on of the unit's deploy; without them nothing changes", () => {
    const { stack, host, venv } = setup();
    const writer = new WsgiApp(stack, "writer", { host, venv, source: BLOG, entry: "app:app" });
    const reader = new WsgiApp(stack, "reader", { host, venv, source: API, entry: "service:application", mount: "/r", appDir: "apps/r", dependsOn: [writer] });
    const late = new WsgiApp(stack, "late", { host, venv, source: API, entry: "service:application", mount: "/l", appDir: "apps/l" });
    // Added after the construct exists: still counted, at synth.
    late.node.addDependency(reader);
    const units = deploys(stack);
    const writerRef = deployRef(stack, "s/writer");
    const readerRef = deployRef(stack, "s/reader");
    expect(units["s/reader"]!.depends_on).toContain(writerRef);
    expect(units["s/late"]!.depends_on).toContain(readerRef);
    expect(units["s/writer"]!.depends_on).not.toContain(readerRef);
    expect(units["s/writer"]!.depends_on).toHaveLength(2); // its venv and its own remove
  });

  test("a Venv and a plain construct holding resources can be depended on too", () => {
    const { stack, host, venv } = setup();
    const other = new Venv(stack, "other-venv", { host, requirements: `${API}/requirements.txt`, path: "private/other-venv", requirementsPath: "private/other-requirements.txt", freezePath: "private/other-freeze.txt" });
    const group = new Construct(stack, "group");
    const marker = new TerraformData(group, "marker", {});
    const app = new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", dependsOn: [other, group] });
    expect(app).toBeDefined();
    const deps = deploys(stack)["s/blog"]!.depends_on!;
    expect(deps).toContain(deployRef(stack, "s/other-venv"));
    expect(deps).toContain(`terraform_data.${marker.friendlyUniqueId}`);
  });

  test("a construct of another stack is refused, naming both stacks", () => {
    const { stack, host, venv } = setup();
    const otherStack = new TerraformStack(App.of(stack), "t");
    const marker = new TerraformData(otherStack, "marker", {});
    new WsgiApp(stack, "blog", { host, venv, source: BLOG, entry: "app:app", dependsOn: [marker] });
    expect(() => Testing.synth(stack)).toThrow("dependsOn t/marker is in stack t, not in s: only units of one stack can be ordered");
  });
});
