import { App, TerraformStack, Testing } from "cdktf";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import type { HealthCheckOptions } from "../../constructs";

/** Where the deploy looks for the entry point's own report: the health URL's origin + the mount. */
function releaseUrls(mount: string | undefined, healthCheck: HealthCheckOptions): unknown[] {
  const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
  const host = new WebshareHost(stack, "host", { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: "SHA256:" + "A".repeat(43), apache: ApacheMode.managed() });
  const venv = new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
  new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", mount, healthCheck });
  const resources = JSON.parse(Testing.synth(stack)).resource.terraform_data as Record<string, { input: Record<string, unknown> }>;
  const app = Object.values(resources).find((r) => r.input?.kind === "app")!.input;
  const venvUnit = Object.values(resources).find((r) => r.input?.kind === "venv")!.input;
  return [(app.healthCheck as { releaseUrl?: string }).releaseUrl, (venvUnit.apps as { healthCheck: { releaseUrl?: string } }[])[0].healthCheck.releaseUrl];
}

test("the report is under the app's mount on the health URL's origin, for the app and its venv", () => {
  expect(releaseUrls(undefined, { url: "https://web.example.com/health" })).toEqual(["https://web.example.com/.webshare/health", "https://web.example.com/.webshare/health"]);
  expect(releaseUrls("/blog", { url: "https://web.example.com:8443/blog/health?x=1" })).toEqual(["https://web.example.com:8443/blog/.webshare/health", "https://web.example.com:8443/blog/.webshare/health"]);
});

test("verifyRelease: false leaves only the user's health URL", () => {
  expect(releaseUrls("/blog", { url: "https://web.example.com/blog/health", verifyRelease: false })).toEqual([undefined, undefined]);
});
