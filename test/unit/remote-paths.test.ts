import { errorText } from "../../lib/errors";
import { App, TerraformStack } from "cdktf";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import type { VenvProps, WebshareHostProps, WsgiAppProps } from "../../constructs";
import { hostOverlapProblems, plumbingProblem, unitOverlapProblems } from "../../lib/remote-paths";

const FINGERPRINT = "SHA256:" + "A".repeat(43);
const hostProps: WebshareHostProps = { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: FINGERPRINT, apache: ApacheMode.managed() };
const BLOG = { source: "test/fixtures/apps/blog", entry: "app:app" };
const REQS = "test/fixtures/apps/blog/requirements.txt";

function setup(extra: Partial<WebshareHostProps> = {}) {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { ...hostProps, ...extra });
  return { stack, host };
}

describe("the account's plumbing is refused at synth", () => {
  test.each<[Partial<WsgiAppProps>, string]>([
    [{ appDir: ".ssh" }, 'appDir ".ssh" is .ssh, the account\'s SSH directory (authorized_keys): a deploy there locks the account out of SSH; use a path of its own'],
    [{ appDir: "/home/wwwshare/.ssh/app" }, 'appDir "/home/wwwshare/.ssh/app" lies inside .ssh, the account\'s SSH directory'],
    [{ appDir: ".webshare" }, "appDir \".webshare\" is .webshare, webshare's own state directory"],
    [{ appDir: "./.bashrc" }, 'appDir "./.bashrc" is .bashrc, a shell startup file'],
  ])("WsgiApp %j", (override, message) => {
    const { stack, host } = setup();
    const venv = new Venv(stack, "venv", { host, requirements: REQS });
    expect(() => new WsgiApp(stack, "blog", { host, venv, ...BLOG, ...override })).toThrow(`s/blog: invalid props:\n  - ${message}`);
  });

  test.each<[Partial<VenvProps>, string]>([
    [{ requirementsPath: ".ssh/authorized_keys" }, 'requirementsPath ".ssh/authorized_keys" lies inside .ssh'],
    [{ freezePath: ".profile" }, 'freezePath ".profile" is .profile, a shell startup file'],
    [{ path: ".zshrc" }, 'path ".zshrc" is .zshrc'],
    [{ path: ".webshare/venv" }, 'path ".webshare/venv" lies inside .webshare'],
  ])("Venv %j", (override, message) => {
    const { stack, host } = setup();
    expect(() => new Venv(stack, "venv", { host, requirements: REQS, ...override })).toThrow(`s/venv: invalid props:\n  - ${message}`);
  });

  test.each<[Partial<WebshareHostProps>, string]>([
    [{ layout: { publicDir: ".ssh" } }, 'layout.publicDir ".ssh" is .ssh'],
    [{ layout: { privateDir: ".webshare" } }, 'layout.privateDir ".webshare" is .webshare'],
    [{ apache: ApacheMode.selfManaged({ confDir: "/home/wwwshare/.ssh", testCommand: ["true"], reloadCommand: ["true"] }) }, 'apache.confDir "/home/wwwshare/.ssh" is .ssh'],
  ])("WebshareHost %j", (override, message) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    expect(() => new WebshareHost(stack, "host", { ...hostProps, ...override })).toThrow(`s/host: invalid props:\n  - ${message}`);
  });

  test("names that only look alike are fine", () => {
    expect(plumbingProblem(".sshx")).toBeUndefined();
    expect(plumbingProblem("public/.ssh")).toBeUndefined();
    expect(plumbingProblem("private/.webshare")).toBeUndefined();
  });
});

describe("paths of one construct may not be equal or contain one another", () => {
  test("a venv whose requirements path is the venv itself", () => {
    const { stack, host } = setup();
    expect(() => new Venv(stack, "venv", { host, requirements: REQS, path: "apps/v", requirementsPath: "apps/v" })).toThrow(
      's/venv: invalid props:\n  - path "apps/v" is the same path as requirementsPath "apps/v"; each remote path of a construct must be separate from its others',
    );
  });

  test("a venv path containing its own venvs directory", () => {
    const { stack, host } = setup();
    expect(() => new Venv(stack, "venv", { host, requirements: REQS, path: "private/venvs" })).toThrow(
      'path "private/venvs" contains venvs directory (from path) "private/venvs/private-venvs"',
    );
  });

  test("an app dir of `private` contains its own releases", () => {
    const { stack, host } = setup();
    const venv = new Venv(stack, "venv", { host, requirements: REQS, path: "apps/v/venv" });
    expect(() => new WsgiApp(stack, "blog", { host, venv, ...BLOG, appDir: "private" })).toThrow(
      's/blog: invalid props:\n  - appDir "private" contains releases directory (from appDir) "private/releases/private"',
    );
  });

  test("pure check: only overlapping pairs", () => {
    const claims = [
      { by: "u", field: "a", path: "x/y" },
      { by: "u", field: "b", path: "x/yz" },
      { by: "u", field: "c", path: "x" },
    ];
    expect(unitOverlapProblems(claims)).toEqual([
      'a "x/y" lies inside c "x"; each remote path of a construct must be separate from its others (not equal, neither inside the other)',
      'b "x/yz" lies inside c "x"; each remote path of a construct must be separate from its others (not equal, neither inside the other)',
    ]);
    expect(hostOverlapProblems(claims, "h")).toEqual([]);
  });
});

/** The collisions a construct's creation was refused for (one per line of the thrown error). */
function collisions(make: () => unknown): string[] {
  try {
    make();
  } catch (e) {
    expect(errorText(e)).not.toContain("skipValidation");
    return errorText(e)
      .split("\n")
      .filter((l) => l.startsWith("  - "))
      .map((l) => l.slice(4));
  }
  throw new Error("the construct was made without complaint");
}

describe("paths of different constructs on one host may not be equal or contain one another (refused when the second is made)", () => {
  test("a venv path equal to the app dir", () => {
    const { stack, host } = setup();
    const venv = new Venv(stack, "venv", { host, requirements: REQS, path: "public" });
    expect(collisions(() => new WsgiApp(stack, "blog", { host, venv, ...BLOG }))).toEqual([
      's/blog appDir "public" is the same path as s/venv path "public" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another appDir on s/blog or path on s/venv)',
    ]);
    expect(host.node.validate()).toEqual([]);
  });

  test("one app dir inside another app's, and a venv inside an app dir (it would be served)", () => {
    const first = setup();
    const venv = new Venv(first.stack, "venv", { host: first.host, requirements: REQS, path: "public/blog/venv" });
    expect(collisions(() => new WsgiApp(first.stack, "site", { host: first.host, venv, ...BLOG }))).toContain(
      's/site appDir "public" contains s/venv path "public/blog/venv" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another appDir on s/site or path on s/venv)',
    );
    const second = setup();
    const venv2 = new Venv(second.stack, "venv", { host: second.host, requirements: REQS });
    new WsgiApp(second.stack, "site", { host: second.host, venv: venv2, ...BLOG });
    expect(collisions(() => new WsgiApp(second.stack, "blog", { host: second.host, venv: venv2, ...BLOG, mount: "/blog", appDir: "public/blog" }))).toEqual([
      's/blog appDir "public/blog" lies inside s/site appDir "public" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another appDir on one of them)',
    ]);
  });

  test("two app dirs whose release directories collide", () => {
    const { stack, host } = setup();
    const venv = new Venv(stack, "venv", { host, requirements: REQS });
    new WsgiApp(stack, "a", { host, venv, ...BLOG, mount: "/a", appDir: "apps/a-b" });
    expect(collisions(() => new WsgiApp(stack, "b", { host, venv, ...BLOG, mount: "/b", appDir: "apps/a/b" }))).toEqual([
      's/b releases directory (from appDir) "private/releases/apps-a-b" is the same path as s/a releases directory (from appDir) "private/releases/apps-a-b" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another appDir on one of them)',
    ]);
  });

  test("a venv's requirements path on the app's database.yml, and an Apache conf dir over the app dir", () => {
    process.env.WEBSHARE_TEST_PATHS_DB = "x";
    const { stack, host } = setup({ apache: ApacheMode.selfManaged({ confDir: "/home/wwwshare/public/conf", testCommand: ["true"], reloadCommand: ["true"] }) });
    const venv = new Venv(stack, "venv", { host, requirements: REQS, requirementsPath: "private/database.yml" });
    expect(collisions(() => new WsgiApp(stack, "blog", { host, venv, ...BLOG, databaseYml: { fromEnv: { password: "WEBSHARE_TEST_PATHS_DB" } } }))).toEqual([
      's/blog appDir "public" contains s/host apache.confDir "public/conf" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another appDir on s/blog or apache.confDir on s/host)',
      's/blog databaseYml.path "private/database.yml" is the same path as s/venv requirementsPath "private/database.yml" on host s/host; remote paths of different constructs must not be equal or contain one another: give each its own (set another databaseYml.path on s/blog or requirementsPath on s/venv)',
    ]);
  });
});
