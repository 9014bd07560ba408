import { App, TerraformStack, Testing } from "cdktf";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import type { WebshareHostProps, WsgiAppProps, VenvProps } from "../../constructs";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { errorText } from "../../lib/errors";

const FINGERPRINT = "SHA256:" + "A".repeat(43);
const hostProps: WebshareHostProps = { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: FINGERPRINT, apache: ApacheMode.managed() };

function setup() {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", hostProps);
  const venv = new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
  return { stack, host, venv };
}

describe("WebshareHost props", () => {
  test.each<[Partial<WebshareHostProps>, string]>([
    [{ port: 0 }, 'port 0 must be 1-65535'],
    [{ host: "a b" }, `host "a b" must be a DNS name or an IP address`],
    [{ host: "$(reboot)" }, `host "$(reboot)" must be a DNS name or an IP address`],
    [{ user: "Root;x" }, `user "Root;x" must be a POSIX user name`],
    [{ hostKey: "ssh-ed25519 AAAA" }, `hostKey "ssh-ed25519 AAAA" must be an SSH host key fingerprint`],
    [{ passphraseEnv: "my secret" }, `passphraseEnv "my secret" must be an environment variable NAME`],
    [{ home: "relative/home" }, `home "relative/home" must be an absolute path`],
    [{ layout: { venv: "../../etc" } }, `layout.venv "../../etc" must stay inside the home directory /home/wwwshare`],
    [{ layout: { publicDir: "/etc/apache2" } }, `layout.publicDir "/etc/apache2" must stay inside the home directory /home/wwwshare`],
    [{ apache: "managed" as unknown as ApacheMode }, `apache "managed" must be ApacheMode.managed() or ApacheMode.selfManaged({...})`],
  ])("%j fails with a message naming the construct and field", (override, message) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    expect(() => new WebshareHost(stack, "web", { ...hostProps, ...override })).toThrow(`s/web: invalid props:\n  - ${message}`);
  });

  test("unknown props are named", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    expect(() => new WebshareHost(stack, "web", { ...hostProps, password: "x" } as WebshareHostProps)).toThrow('unknown prop "password"');
  });

  test("a wrong type is said in plain words, not zod's", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    expect(() => new WebshareHost(stack, "web", { ...hostProps, port: "22" } as unknown as WebshareHostProps)).toThrow(
      's/web: invalid props:\n  - port must be a number (got the string "22")',
    );
  });

  test("an uncaught props error prints as its text and the caller's line, without a stack through webshare or undefined fields", () => {
    const script = `
      const { App, TerraformStack } = require(${JSON.stringify(require.resolve("cdktf"))});
      const { WebshareHost, ApacheMode } = require(${JSON.stringify(path.resolve(__dirname, "../../constructs"))});
      new WebshareHost(new TerraformStack(new App(), "s"), "web", { host: "127.0.0.1", user: "u", hostKey: ${JSON.stringify(FINGERPRINT)}, port: "22", apache: ApacheMode.managed() });`;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('WebshareError: s/web: invalid props:\n  - port must be a number (got the string "22")\n    at [eval]');
    expect(run.stderr).not.toContain("undefined");
    expect(run.stderr).not.toMatch(/\n\s+at .*(errors|webshare-host)\.js/);
    expect(run.stderr.match(/invalid props/g)).toHaveLength(1);
  });
  test.each<[Partial<WebshareHostProps>, string]>([
    [{ hostKey: undefined }, "hostKey is required: a pinned fingerprint (or several), or a knownHostsFile that lists the host"],
    [{ user: undefined }, "user is required (or give sshConfigFile, whose User is used)"],
    [{ user: undefined, sshConfigFile: "~/.ssh/config" }, "home is required when user comes from the ssh config"],
    [{ jumpHosts: [{ host: "bastion" }] }, "jumpHosts[0] (bastion) needs a hostKey, or a knownHostsFile that lists it: jump hosts are pinned too"],
  ])("connection: %j is refused (pins are never optional, for jump hosts neither)", (override, message) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    expect(() => new WebshareHost(stack, "web", { ...hostProps, ...override })).toThrow(message);
  });

  test("connection: several pins, a known_hosts file, an ssh config alias and pinned jump hosts are accepted", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "web", {
      ...hostProps,
      host: "web-prod",
      user: undefined,
      home: "/home/deploy",
      hostKey: [FINGERPRINT, "SHA256:" + "B".repeat(43)],
      sshConfigFile: "~/.ssh/config",
      knownHostsFile: "~/.ssh/known_hosts",
      jumpHosts: [{ host: "bastion" }, { host: "inner", port: 2200, user: "ops", hostKey: FINGERPRINT }],
      connectAttempts: 2,
    });
    expect(host.spec.connection).toMatchObject({ host: "web-prod", port: undefined, user: undefined, connectAttempts: 2 });
    expect(host.target).toBe("web-prod");
  });
});

describe("WsgiApp props", () => {
  test.each<[Partial<WsgiAppProps>, string]>([
    [{ mount: "app" }, 'mount "app" must start with "/"'],
    [{ mount: "/a/../b" }, 'mount "/a/../b" must not contain ".."'],
    [{ mount: "/x;rm" }, 'mount "/x;rm" may only contain letters, digits and . _ ~ / -'],
    [{ entry: "app" }, 'entry "app" must be "module:callable"'],
    [{ entry: "os;system:x" }, 'entry "os;system:x" must be "module:callable"'],
    [{ daemon: { processes: 0 } }, "daemon.processes 0 must be 1-64"],
    [{ daemon: { threads: 1000 } }, "daemon.threads 1000 must be 1-256"],
    [{ daemon: { startupTimeout: 0 } }, "daemon.startupTimeout 0 must be a whole number of seconds, 1-86400"],
    [{ daemon: { requestTimeout: 2.5 } }, "daemon.requestTimeout 2.5 must be a whole number of seconds, 1-86400"],
    [{ daemon: { gracefulTimeout: 100000 } }, "daemon.gracefulTimeout 100000 must be a whole number of seconds, 1-86400"],
    [{ daemon: { lang: "C.UTF-8 x=1" } }, 'daemon.lang "C.UTF-8 x=1" must be a locale name such as "C.UTF-8" or "en_US.UTF-8"'],
    [{ daemon: { locale: '"C"' } }, "daemon.locale"],
    [{ daemon: { locale: "" } }, 'daemon.locale "" must be a locale name'],
    [{ healthCheck: { url: "http://x/", memoryWarnBytes: 1000 } }, "healthCheck.memoryWarnBytes 1000 must be a whole number of bytes, at least 1048576 (1 MiB)"],
    [{ healthCheck: { url: "http://x/", memoryWarnBytes: 1 << 30, verifyRelease: false } }, "healthCheck.memoryWarnBytes needs verifyRelease"],
    [{ environment: { "BAD NAME": "x" } }, 'environment key "BAD NAME" must be an environment variable NAME'],
    [{ appDir: "../other" }, 'appDir "../other" must stay inside the home directory /home/wwwshare'],
    [{ source: "does/not/exist" }, 'source "does/not/exist" must be an existing local directory'],
    [{ healthCheck: { url: "https://user:pw@example.com/" } }, "healthCheck.url"],
    [{ staticDirs: { "/static": "../../etc" } }, 'staticDirs["/static"] "../../etc" must be a directory inside the app source'],
  ])("%j fails with a message naming the construct and field", (override, message) => {
    const { stack, host, venv } = setup();
    expect(() => new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", ...override })).toThrow(message);
    expect(() => new WsgiApp(stack, "blog2", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", ...override })).toThrow("s/blog2: invalid props");
  });

  test("mod_wsgi timeouts, lang and locale reach the spec's daemon; memoryWarnBytes the health check", () => {
    const { stack, host, venv } = setup();
    new WsgiApp(stack, "blog", {
      host,
      venv,
      source: "test/fixtures/apps/blog",
      entry: "app:app",
      daemon: { startupTimeout: 15, requestTimeout: 60, gracefulTimeout: 5, lang: "C.UTF-8", locale: "en_US.UTF-8" },
      healthCheck: { url: "http://x/", memoryWarnBytes: 512 * 2 ** 20 },
    });
    const app = Object.values(JSON.parse(Testing.synth(stack)).resource.terraform_data as Record<string, { input: { kind: string; daemon: object; healthCheck: object } }>)
      .map((r) => r.input)
      .find((i) => i.kind === "app")!;
    expect(app.daemon).toEqual(expect.objectContaining({ startupTimeout: 15, requestTimeout: 60, gracefulTimeout: 5, lang: "C.UTF-8", locale: "en_US.UTF-8" }));
    expect(app.healthCheck).toEqual(expect.objectContaining({ memoryWarnBytes: 512 * 2 ** 20 }));
  });

  test("only the first problem of a field is reported, and a bad record key says what a key must be", () => {
    const { stack, host, venv } = setup();
    expect(() => new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", mount: "app", staticDirs: { static: "static" } })).toThrow(
      new Error('s/blog: invalid props:\n  - mount "app" must start with "/"\n  - staticDirs key "static" must start with "/"'),
    );
  });

  test("databaseYml names the missing variables or file, never a value", () => {
    const { stack, host, venv } = setup();
    const base = { host, venv, source: "test/fixtures/apps/blog", entry: "app:app" };
    process.env.WEBSHARE_TEST_DB_SET = "super-secret-value";
    delete process.env.WEBSHARE_TEST_DB_UNSET;
    let message = "";
    try {
      new WsgiApp(stack, "a", { ...base, databaseYml: { fromEnv: { password: "WEBSHARE_TEST_DB_UNSET", user: "WEBSHARE_TEST_DB_SET" } } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe("s/a: invalid props:\n  - databaseYml needs environment variable WEBSHARE_TEST_DB_UNSET, which is not set");
    expect(() => new WsgiApp(stack, "b", { ...base, databaseYml: { file: "nope/database.yml" } })).toThrow('databaseYml file "nope/database.yml" cannot be read (ENOENT)');
    expect(() => new WsgiApp(stack, "c", { ...base, databaseYml: { fromEnv: { password: "not a name" } } })).toThrow("databaseYml");
  });

  test("databaseYml from env synthesizes variable names and a keyed digest, not the value", () => {
    const { stack, host, venv } = setup();
    process.env.WEBSHARE_TEST_DB_SET = "super-secret-value";
    new WsgiApp(stack, "a", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", databaseYml: { fromEnv: { password: "WEBSHARE_TEST_DB_SET" } } });
    const json = Testing.synth(stack);
    expect(json).toContain('"WEBSHARE_TEST_DB_SET"');
    expect(json).toMatch(/"digest": "[0-9a-f]{64}"/);
    expect(json).not.toContain("super-secret-value");
  });

  test("two apps claiming one mount fail when the second is made, naming both and the prop to change, never skipValidation", () => {
    const { stack, host, venv } = setup();
    const venv2 = new Venv(stack, "venv2", { host, requirements: "test/fixtures/apps/api/requirements.txt", path: "apps/api/venv" });
    new WsgiApp(stack, "a", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app" });
    let thrown: unknown;
    try {
      new WsgiApp(stack, "b", { host, venv: venv2, source: "test/fixtures/apps/api", entry: "service:application", appDir: "apps/api/public" });
    } catch (e) {
      thrown = e;
    }
    expect(errorText(thrown)).toBe(
      's/b: URL path "/" on host s/host is already used by s/a\nWhat to do: give one app another mount (or another staticDirs URL path); two units sharing one would overwrite each other on the host',
    );
    // Not a cdktf validation, whose failure text advises 'skipValidation: true'.
    expect(host.node.validate()).toEqual([]);
  });

  test("an app dir inside another app's fails when the second is made, naming both, never skipValidation", () => {
    const { stack, host, venv } = setup();
    const venv2 = new Venv(stack, "venv2", { host, requirements: "test/fixtures/apps/api/requirements.txt", path: "apps/api/venv" });
    new WsgiApp(stack, "a", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app" });
    let thrown: unknown;
    try {
      new WsgiApp(stack, "b", { host, venv: venv2, source: "test/fixtures/apps/api", entry: "service:application", mount: "/api", appDir: "public/api" });
    } catch (e) {
      thrown = e;
    }
    const text = errorText(thrown);
    expect(text).toContain('s/b: its remote paths collide with another construct\'s on the same host:\n  - s/b appDir "public/api" lies inside s/a appDir "public" on host s/host');
    expect(text).toContain("What to do: set the prop named in each line");
    expect(text).not.toContain("skipValidation");
    expect(host.node.validate()).toEqual([]);
  });

  test("two Venvs on one path: the fix names the Venv's path prop", () => {
    const { stack, host } = setup();
    expect(() => new Venv(stack, "venv2", { host, requirements: "test/fixtures/apps/api/requirements.txt" })).toThrow(
      's/venv2: venv path "private/venv" on host s/host is already used by s/venv',
    );
    expect(() => new Venv(stack, "venv3", { host, requirements: "test/fixtures/apps/api/requirements.txt" })).toThrow(expect.objectContaining({ hint: expect.stringContaining("give one Venv another path") }));
  });
});

describe("Venv props", () => {
  test.each<[Partial<VenvProps>, string]>([
    [{ requirements: undefined }, "requirements is required (needs a requirements file, a lock file, or both)"],
    [{ requirements: "nope.txt" }, 'requirements "nope.txt" does not exist'],
    [{ indexUrl: "https://user:secret@pypi.example/simple" }, "must be a URL without user:password"],
    [{ path: "/etc/venv" }, 'path "/etc/venv" must stay inside the home directory /home/wwwshare'],
    [{ keep: 0 }, "keep 0 must be 1-20"],
  ])("%j fails with a message naming the construct and field", (override, message) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    expect(() => new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt", ...override })).toThrow(message);
  });

  test("option lines smuggled into a requirements file are refused, each named with its line", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    const file = "test/fixtures/requirements/smuggled-options.txt";
    let message = "";
    try {
      new Venv(stack, "venv", { host, requirements: file });
    } catch (e) {
      message = (e as Error).message;
    }
    const refused = (line: number, raw: string) =>
      `requirements ${file} line ${line}: option line ${JSON.stringify(raw)} is not allowed in requirement files; use the Venv's indexUrl/extraIndexUrls/wheelhouse props, or set allowRequirementOptions: true`;
    expect(message.split("\n").slice(1)).toEqual([
      `  - ${refused(2, "--index-url https://evil.example/simple")}`,
      `  - ${refused(3, "-e git+https://evil.example/x.git#egg=x")}`,
      `  - ${refused(4, "--trusted-host evil.example")}`,
    ]);
    expect(() => new Venv(stack, "allowed", { host, requirements: file, allowRequirementOptions: true, path: "other/venv" })).not.toThrow();
  });

  test("a malformed requirement is refused with its line number", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    expect(() => new Venv(stack, "venv", { host, requirements: "test/fixtures/requirements/malformed.txt" })).toThrow(/requirements test\/fixtures\/requirements\/malformed\.txt: line 1: .*flask=>3/);
  });

  test("index credentials never reach the message either", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    let message = "";
    try {
      new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt", indexUrl: "https://user:secret@pypi.example/simple" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/indexUrl/);
    expect(message).not.toContain("secret");
  });
});
