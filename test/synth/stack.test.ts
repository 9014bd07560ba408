import { App, Testing, TerraformStack } from "cdktf";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import { specDigest } from "../../lib/transport";

const FINGERPRINT = "SHA256:" + "A".repeat(43);

/** Two apps on one self-managed host: the shape most teams start from. */
function twoAppStack(lifecycleResource?: "terraform_data" | "null_resource") {
  const app = new App({ outdir: "cdktf.out", skipValidation: false });
  const stack = new TerraformStack(app, "site");
  const host = new WebshareHost(stack, "host", {
    host: "web.example.com",
    user: "wwwshare",
    privateKeyPath: "~/.ssh/id_ed25519",
    passphraseEnv: "WEBSHARE_KEY_PASSPHRASE",
    hostKey: FINGERPRINT,
    apache: ApacheMode.selfManaged({ confDir: "/etc/apache2/webshare.d", testCommand: ["apache2ctl", "configtest"], reloadCommand: ["sudo", "apache2ctl", "graceful"] }),
    lifecycleResource,
  });
  const blogVenv = new Venv(stack, "blog-venv", {
    host,
    requirements: "test/fixtures/apps/blog/requirements.txt",
    lock: "test/fixtures/apps/blog/requirements.lock",
    indexUrl: "https://pypi.internal.example/simple",
  });
  new WsgiApp(stack, "blog", {
    host,
    venv: blogVenv,
    source: "test/fixtures/apps/blog",
    entry: "app:app",
    staticDirs: { "/static": "static" },
    daemon: { processes: 3, threads: 5, maximumRequests: 200 },
    environment: { BLOG_TITLE: "Notes" },
    healthCheck: { url: "https://web.example.com/" },
  });
  const apiVenv = new Venv(stack, "api-venv", { host, requirements: "test/fixtures/apps/api/requirements.txt", path: "apps/api/venv" });
  new WsgiApp(stack, "api", { host, venv: apiVenv, source: "test/fixtures/apps/api", entry: "service:application", mount: "/api", appDir: "apps/api/public" });
  return stack;
}

describe("synthesized stack: two apps on one host", () => {
  const json = Testing.synth(twoAppStack());
  const config = JSON.parse(json);
  type Resource = { input: any; triggers_replace: any; provisioner: any[]; lifecycle: any; depends_on?: string[] };
  const all = config.resource.terraform_data as Record<string, Resource>;
  const pick = (role: string) => Object.fromEntries(Object.entries(all).filter(([name]) => name.includes(`_${role}_`)));
  const resources = pick("deploy");
  const removers = pick("remove");
  const byUnit = (unit: string) => Object.values(resources).find((r) => r.input.unit === unit)!;
  const removerOf = (unit: string) => Object.values(removers).find((r) => r.input.unit === unit)!;

  test("matches the reviewed snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("one deploy and one remove terraform_data per venv and per app, plus the host's inventory, nothing else", () => {
    expect(Object.keys(all)).toHaveLength(10);
    expect(Object.keys(all).filter((name) => name.startsWith("host_inventory_")).map((name) => name.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual(["host_inventory_cleanup", "host_inventory_prune"]);
    expect(Object.values(removers).map((r) => `${r.input.kind} ${r.input.unit}`).sort()).toEqual(Object.values(resources).map((r) => `${r.input.kind} ${r.input.unit}`).sort());
    expect(Object.values(resources).map((r) => `${r.input.kind} ${r.input.unit}`).sort()).toEqual([
      "app site/api",
      "app site/blog",
      "venv site/api-venv",
      "venv site/blog-venv",
    ]);
  });

  test("the lock shows as a package map a plan prints key by key", () => {
    expect(byUnit("site/blog-venv").input.packages).toEqual({ "webshare-greeting": "1.0.0" });
    expect(byUnit("site/blog-venv").input.requirements).toEqual(["webshare-greeting>=1.0"]);
  });

  test("app files are listed with content hashes, and venv files are not uploaded as app code", () => {
    expect(Object.keys(byUnit("site/blog").input.files)).toEqual(["app.py", "static/hello.txt"]);
  });

  test("provisioners take values from the environment, never from the command text", () => {
    const [create] = byUnit("site/blog").provisioner.map((p: any) => p["local-exec"]);
    expect(byUnit("site/blog").provisioner).toHaveLength(1);
    expect(create.command).toBe('node "$WEBSHARE_CLI" provision create');
    expect(create.when).toBeUndefined();
    expect(create.environment.WEBSHARE_CLI).toBe("dist/lib/cli/main.js");
    expect(create.working_dir).toBe("../../..");
  });

  test("the deploy provisioner finds its spec in the stack by unit path and planned digest, not in one environment string", () => {
    const [create] = byUnit("site/blog").provisioner.map((p: any) => p["local-exec"]);
    expect(create.environment.WEBSHARE_UNIT).toBeUndefined();
    expect(create.environment.WEBSHARE_STACK_DIR).toBe("${abspath(path.module)}");
    expect(create.environment.WEBSHARE_UNIT_PATH).toBe("site/blog");
    expect(create.environment.WEBSHARE_SPEC_SHA256).toBe(specDigest(byUnit("site/blog").input));
    const [destroy] = removerOf("site/blog").provisioner.map((p: any) => p["local-exec"]);
    expect(destroy.environment.WEBSHARE_UNIT).toBe("${jsonencode(self.input)}");
  });

  test("the deploying machine's connection settings are in the provisioners' environment, not in any input", () => {
    for (const r of [...Object.values(resources), ...Object.values(removers)]) {
      expect(Object.keys(r.input.host.connection).sort()).toEqual(["host", "hostKey", "port", "user"]);
      expect(JSON.parse(r.provisioner[0]["local-exec"].environment.WEBSHARE_CONNECTION)).toEqual({
        privateKeyPath: "~/.ssh/id_ed25519",
        passphraseEnv: "WEBSHARE_KEY_PASSPHRASE",
        useAgent: false,
        connectTimeoutSeconds: 10,
      });
    }
  });

  test("removal lives in its own resource with only a destroy-time provisioner and only the paths it owns", () => {
    const remover = removerOf("site/blog-venv");
    expect(remover.provisioner.map((p: any) => [p["local-exec"].command, p["local-exec"].when])).toEqual([['node "$WEBSHARE_CLI" provision destroy', "destroy"]]);
    expect(Object.keys(remover.input).sort()).toEqual(["freezePath", "host", "kind", "requirementsPath", "specVersion", "unit", "venvPath", "venvsDir"]);
    expect(remover.triggers_replace).toBeUndefined();
    expect(Object.keys(removerOf("site/blog").input).sort()).toEqual(["appDir", "host", "kind", "releasesDir", "specVersion", "unit"]);
  });

  test("replacement creates before it destroys, and apps wait for their venv", () => {
    expect(byUnit("site/blog").lifecycle.create_before_destroy).toBe(true);
    expect(byUnit("site/blog").depends_on!.sort()).toEqual([expect.stringMatching(/^terraform_data\.blog-venv_deploy/), expect.stringMatching(/^terraform_data\.blog_remove/)]);
  });

  test("each venv knows its apps' entry points and health checks", () => {
    expect(byUnit("site/blog-venv").input.apps).toEqual([
      {
        entryPoint: "public/wwwshare.wsgi",
        healthCheck: { url: "https://web.example.com/", expectStatus: 200, timeoutSeconds: 30, releaseUrl: "https://web.example.com/.webshare/health" },
      },
    ]);
  });

  test("no secret material: only the key path and the passphrase variable NAME", () => {
    expect(json).toContain('\\"privateKeyPath\\":\\"~/.ssh/id_ed25519\\"');
    expect(json).toContain('\\"passphraseEnv\\":\\"WEBSHARE_KEY_PASSPHRASE\\"');
    expect(json).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(json).not.toMatch(/"(password|passphrase|privateKey)"\s*:/);
  });

  test("the second app gets its own paths and mount", () => {
    const api = byUnit("site/api").input;
    expect([api.appDir, api.entryPoint, api.mount, api.venvPath]).toEqual(["apps/api/public", "apps/api/public/wwwshare.wsgi", "/api", "apps/api/venv"]);
    expect(byUnit("site/api-venv").input.requirementsPath).toBe("apps/api/requirements.txt");
  });
});

describe("null_resource option", () => {
  test("carries the same spec in string triggers with readable package keys", () => {
    const config = JSON.parse(Testing.synth(twoAppStack("null_resource")));
    expect(config.resource.terraform_data).toBeUndefined();
    const venv = Object.entries(config.resource.null_resource as Record<string, any>).find(([name, r]) => name.includes("_deploy_") && JSON.parse(r.triggers.spec).unit === "site/blog-venv")![1];
    expect(venv.triggers["package:webshare-greeting"]).toBe("1.0.0");
    expect(venv.provisioner[0]["local-exec"].environment.WEBSHARE_SPEC_SHA256).toBe(specDigest(JSON.parse(venv.triggers.spec)));
    expect(JSON.parse(venv.triggers.spec).host.connection.privateKeyPath).toBeUndefined();
    const remove = Object.entries(config.resource.null_resource as Record<string, any>).find(([name, r]) => name.includes("_remove_") && JSON.parse(r.triggers.spec).unit === "site/blog-venv")![1];
    expect(remove.provisioner[0]["local-exec"].environment.WEBSHARE_UNIT).toBe("${self.triggers.spec}");
    expect(config.provider.null).toBeDefined();
  });
});

describe("ssh config, known_hosts and jump hosts stay on the deploying machine", () => {
  const fs = require("node:fs") as typeof import("node:fs");
  const os = require("node:os") as typeof import("node:os");
  const path = require("node:path") as typeof import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-leak-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const jumpKeyBody = "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBJUMPKEYSECRET";
  const jumpPassphrase = "jump-passphrase-never-in-json";
  fs.writeFileSync(path.join(dir, "ssh_config"), "Host web-prod\n  HostName 10.9.8.7\n  User deploy-from-config\n  IdentityFile ~/.ssh/config-only-key\n  ProxyJump ops@bastion-from-config:2200\n");
  fs.writeFileSync(path.join(dir, "known_hosts"), "|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|aGFzaGhhc2hoYXNoaGFzaGhhc2g= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKNOWNHOSTSCONTENT\n");
  fs.writeFileSync(path.join(dir, "jump_key"), `-----BEGIN OPENSSH PRIVATE KEY-----\n${jumpKeyBody}\n-----END OPENSSH PRIVATE KEY-----\n`);

  function stackWith(files: { sshConfig: string; knownHosts: string }): string {
    const app = new App({ outdir: "cdktf.out", skipValidation: false });
    const stack = new TerraformStack(app, "site");
    const host = new WebshareHost(stack, "host", {
      host: "web-prod",
      home: "/home/deploy",
      sshConfigFile: files.sshConfig,
      knownHostsFile: files.knownHosts,
      jumpHosts: [{ host: "bastion.example.com", port: 2200, user: "ops", privateKeyPath: path.join(dir, "jump_key"), passphraseEnv: "JUMP_KEY_PASSPHRASE" }],
      apache: ApacheMode.managed(),
    });
    const venv = new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
    new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app" });
    process.env.JUMP_KEY_PASSPHRASE = jumpPassphrase;
    try {
      return Testing.synth(stack);
    } finally {
      delete process.env.JUMP_KEY_PASSPHRASE;
    }
  }

  test("synth reads none of them: the same JSON whether the files exist or not", () => {
    const files = { sshConfig: path.join(dir, "ssh_config"), knownHosts: path.join(dir, "known_hosts") };
    const present = stackWith(files);
    for (const f of Object.values(files)) fs.renameSync(f, `${f}.away`);
    try {
      expect(stackWith(files)).toBe(present);
    } finally {
      for (const f of Object.values(files)) fs.renameSync(`${f}.away`, f);
    }
  });

  test("no content of the ssh config, known_hosts or jump key, and no passphrase, reaches the JSON", () => {
    const json = stackWith({ sshConfig: path.join(dir, "ssh_config"), knownHosts: path.join(dir, "known_hosts") });
    for (const leaked of ["10.9.8.7", "deploy-from-config", "config-only-key", "bastion-from-config", "KNOWNHOSTSCONTENT", "c2FsdHNhbHRzYWx0", jumpKeyBody, jumpPassphrase]) {
      expect(json).not.toContain(leaked);
    }
    expect(json).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(json).not.toMatch(/"(password|passphrase|privateKey)"\s*:/);
    // The jump host is named by address, user and the passphrase variable NAME only.
    expect(json).toContain("bastion.example.com");
    expect(json).toContain("JUMP_KEY_PASSPHRASE");
  });
});
