import * as fs from "node:fs";
import * as path from "node:path";

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
