import * as fs from "node:fs";
import * as path from "node:path";
import type { Construct } from "constructs";
import { Venv, WebshareHost, WsgiApp } from "../constructs";

/**
 * The source trees bench/synth-stack.ts reads: `apps/app000` ... in `dir`, each a tiny WSGI
 * app with a static file, a requirements.txt and a lock (half pin greeting 1.0.0, half 2.0.0).
 */
export function writeFleetApps(dir: string, apps: number): void {
  for (let i = 0; i < apps; i++) {
    const app = path.join(dir, "apps", `app${String(i).padStart(3, "0")}`);
    fs.mkdirSync(path.join(app, "static"), { recursive: true });
    fs.writeFileSync(path.join(app, "app.py"), `def app(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"app ${i}\\n"]\n`);
    fs.writeFileSync(path.join(app, "static", "style.css"), `body { margin: ${i}px; }\n`);
    fs.writeFileSync(path.join(app, "requirements.txt"), "webshare-greeting>=1.0\n");
    fs.writeFileSync(path.join(app, "requirements.lock"), `webshare-greeting==${i % 2 === 0 ? "1.0.0" : "2.0.0"}\n`);
  }
}

/**
 * One app of a bench fleet as both fleet stacks declare it (bench/synth-stack.ts,
 * bench/fleet-ssh-stack.ts): a Venv and a WsgiApp named `name`, its source in `apps/<name>`
 * (writeFleetApps), mounted at `/<name>`, with `apps/<name>/venv` and `apps/<name>/public`.
 */
export function addFleetApp(
  scope: Construct,
  host: WebshareHost,
  name: string,
  options: { readonly healthUrl: string; readonly wheelhouse?: string; readonly staticDirs?: Record<string, string> },
): WsgiApp {
  const source = `apps/${name}`;
  const venv = new Venv(scope, `${name}-venv`, {
    host,
    path: `apps/${name}/venv`,
    requirements: `${source}/requirements.txt`,
    lock: `${source}/requirements.lock`,
    ...(options.wheelhouse !== undefined && { wheelhouse: options.wheelhouse, noIndex: true }),
  });
  return new WsgiApp(scope, name, {
    host,
    venv,
    source,
    entry: "app:app",
    mount: `/${name}`,
    appDir: `apps/${name}/public`,
    ...(options.staticDirs !== undefined && { staticDirs: options.staticDirs }),
    healthCheck: { url: options.healthUrl },
  });
}
