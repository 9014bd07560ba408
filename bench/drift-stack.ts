/**
 * Bench-only stack program for `npm run bench:drift`: one WebshareHost with N Venvs
 * (`locks/v00.lock` ... in the working directory, each at its own path
 * `private/bench/vNN/venv`). bench/drift.ts writes the locks and sets the target.
 *
 *   BENCH_DRIFT_VENVS (50), and the WEBSHARE_HOST/PORT/USER/KEY/HOST_KEY/HOME of the bench host
 */
import { App, TerraformStack } from "cdktf";
import { ApacheMode, Venv, WebshareHost } from "../constructs";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set (bench/drift.ts sets it)`);
  return value;
};

const count = Number(process.env.BENCH_DRIFT_VENVS ?? "50");
const app = new App();
const stack = new TerraformStack(app, "driftbench");
const host = new WebshareHost(stack, "host", {
  host: env("WEBSHARE_HOST"),
  port: Number(env("WEBSHARE_PORT")),
  user: env("WEBSHARE_USER"),
  privateKeyPath: env("WEBSHARE_KEY"),
  hostKey: env("WEBSHARE_HOST_KEY"),
  home: env("WEBSHARE_HOME"),
  apache: ApacheMode.managed(),
});
for (let i = 0; i < count; i++) {
  const name = `v${String(i).padStart(2, "0")}`;
  new Venv(stack, name, { host, lock: `locks/${name}.lock`, path: `private/bench/${name}/venv`, wheelhouse: "wheelhouse", noIndex: true });
}
app.synth();
