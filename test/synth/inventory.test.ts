import { App, Testing, TerraformStack } from "cdktf";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";

/**
 * The host inventory as synthesized: one `prune` (create-time) and one `cleanup`
 * (destroy-time) resource per WebshareHost, after every unit's deploy.
 */
const FINGERPRINT = "SHA256:" + "A".repeat(43);

function stack(apps: string[], options: { lifecycleResource?: "terraform_data" | "null_resource"; environment?: Record<string, string> } = {}) {
  const app = new App({ outdir: "cdktf.out" });
  const s = new TerraformStack(app, "site");
  const host = new WebshareHost(s, "host", {
    host: "web.example.com",
    user: "wwwshare",
    hostKey: FINGERPRINT,
    apache: ApacheMode.selfManaged({ confDir: "/etc/apache2/webshare.d", testCommand: ["apache2ctl", "configtest"], reloadCommand: ["apache2ctl", "graceful"] }),
    lifecycleResource: options.lifecycleResource,
  });
  const venv = new Venv(s, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt", lock: "test/fixtures/apps/blog/requirements.lock" });
  apps.forEach((id) => new WsgiApp(s, id, { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", mount: `/${id}`, appDir: `apps/${id}`, environment: options.environment }));
  return JSON.parse(Testing.synth(s));
}

type Resource = { input: any; triggers_replace?: any; provisioner: any[]; depends_on?: string[]; triggers?: any };
const named = (config: any, role: string): Resource => Object.entries(config.resource.terraform_data as Record<string, Resource>).find(([n]) => n.startsWith(`host_inventory_${role}_`))![1];

describe("host inventory", () => {
  const config = stack(["blog", "api"]);
  const prune = named(config, "prune");
  const cleanup = named(config, "cleanup");

  test("prune lists every unit of the host with the paths it owns, and runs after all their deploys", () => {
    expect(prune.input.kind).toBe("inventory");
    expect(prune.input.unit).toBe("site/host/inventory");
    expect(prune.input.units).toEqual([
      { unit: "site/api", kind: "app", owns: { links: ["apps/api"], contentDirs: ["private/releases/apps-api"], files: [], apacheConfig: "/etc/apache2/webshare.d/webshare-site-api.conf" } },
      { unit: "site/blog", kind: "app", owns: { links: ["apps/blog"], contentDirs: ["private/releases/apps-blog"], files: [], apacheConfig: "/etc/apache2/webshare.d/webshare-site-blog.conf" } },
      { unit: "site/venv", kind: "venv", owns: { links: ["private/venv"], contentDirs: ["private/venvs/private-venv"], files: ["private/requirements.txt", "private/freeze.txt"] } },
    ]);
    expect(prune.depends_on!.map((d) => d.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual(["terraform_data.api_deploy", "terraform_data.blog_deploy", "terraform_data.venv_deploy"]);
    expect(prune.provisioner.map((p) => [p["local-exec"].command, p["local-exec"].when])).toEqual([['node "$WEBSHARE_CLI" provision create', undefined]]);
  });

  test("cleanup lists no unit and only runs at destroy, after nothing depends on the units any more", () => {
    expect(cleanup.input.units).toEqual([]);
    expect(cleanup.triggers_replace).toBeUndefined();
    expect(cleanup.provisioner.map((p) => [p["local-exec"].command, p["local-exec"].when])).toEqual([['node "$WEBSHARE_CLI" provision destroy', "destroy"]]);
    expect(cleanup.depends_on).toEqual(prune.depends_on);
  });

  test("prune is replaced (runs) when a unit leaves the stack or is renamed, not when a unit only changes", () => {
    const key = (c: any) => named(c, "prune").triggers_replace.inventory;
    expect(key(stack(["blog"]))).not.toBe(key(config));
    expect(key(stack(["blog", "api2"]))).not.toBe(key(config));
    expect(key(stack(["blog", "api"], { environment: { CHANGED: "1" } }))).toBe(key(config));
    expect(named(stack(["blog", "api"], { environment: { CHANGED: "1" } }), "cleanup")).toEqual(cleanup);
  });

  test("null_resource hosts get the same two resources with the spec in string triggers", () => {
    const nulls = stack(["blog"], { lifecycleResource: "null_resource" }).resource.null_resource as Record<string, Resource>;
    const [prunes, cleanups] = ["prune", "cleanup"].map((role) => Object.entries(nulls).filter(([n]) => n.startsWith(`host_inventory_${role}_`)).map(([, r]) => r));
    expect(JSON.parse(prunes[0]!.triggers.spec).units.map((u: any) => u.unit)).toEqual(["site/blog", "site/venv"]);
    expect(JSON.parse(cleanups[0]!.triggers.spec).units).toEqual([]);
    expect(cleanups[0]!.provisioner[0]["local-exec"].when).toBe("destroy");
  });
});
