/**
 * Bench-only stack program: 10 WebshareHosts with 100 WsgiApps, each app with its own Venv
 * and small source dir. `npm run bench` times `node dist/bench/synth-stack.js` run in a
 * scratch directory that holds `apps/app000` ... `apps/app099` (bench/deploy.ts writes them).
 * Synth never connects, so the host names need not resolve.
 *
 *   BENCH_SYNTH_HOSTS (10), BENCH_SYNTH_APPS (100): the stack's size
 *   BENCH_SYNTH_SKIP_VALIDATION=1: App({ skipValidation: true }), to show what cdktf's
 *     validations cost (the stack runs `$TERRAFORM_BINARY_NAME version` once)
 */
import { App, TerraformStack } from "cdktf";
import { ApacheMode, WebshareHost } from "../constructs";
import { addFleetApp } from "./fleet-apps";

const hosts = Number(process.env.BENCH_SYNTH_HOSTS ?? "10");
const apps = Number(process.env.BENCH_SYNTH_APPS ?? "100");

const app = new App({ outdir: "cdktf.out", skipValidation: process.env.BENCH_SYNTH_SKIP_VALIDATION === "1" });
const stack = new TerraformStack(app, "fleet");
const webshareHosts = Array.from({ length: hosts }, (_, h) =>
  new WebshareHost(stack, `host${h}`, {
    host: `web${h}.bench.invalid`,
    user: "wwwshare",
    privateKeyPath: "~/.ssh/id_ed25519",
    hostKey: "SHA256:" + String.fromCharCode(65 + h).repeat(43),
    apache: ApacheMode.managed(),
  }),
);
for (let i = 0; i < apps; i++) {
  const host = webshareHosts[i % hosts];
  const name = `app${String(i).padStart(3, "0")}`;
  addFleetApp(stack, host, name, { staticDirs: { [`/${name}/static`]: "static" }, healthUrl: `https://web${i % hosts}.bench.invalid/${name}/health` });
}
app.synth();
