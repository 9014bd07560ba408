/**
 * Bench-only stack program for `npm run bench:fleet-ssh` (bench/fleet-ssh.ts): one
 * WebshareHost per local test host (the host dir's self-managed user, its own Apache) and
 * APPS WsgiApps on each, every app with its own Venv, mount, daemon and source dir
 * (`apps/h<H>a<A>`). It reads `fleet.json` in the working directory, which bench/fleet-ssh.ts
 * writes: the targets (from each host dir's env.json), the apps per host and the wheelhouse.
 */
import * as fs from "node:fs";
import { App, TerraformStack } from "cdktf";
import { ApacheMode, WebshareHost } from "../constructs";
import { addFleetApp } from "./fleet-apps";

/** What bench/fleet-ssh.ts passes in fleet.json. */
export interface FleetSshConfig {
  readonly apps: number;
  readonly wheelhouse: string;
  readonly targets: readonly {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly key: string;
    readonly hostKey: string;
    readonly home: string;
    readonly python: string;
    readonly url: string;
    readonly errorLog: string;
    readonly confDir: string;
    readonly testCommand: string;
    readonly reloadCommand: string;
  }[];
}

/** The source dir (and mount, and construct id) of app `a` on host `h`. */
export const fleetAppName = (h: number, a: number): string => `h${h}a${a}`;

if (require.main === module) {
  const config = JSON.parse(fs.readFileSync("fleet.json", "utf8")) as FleetSshConfig;
  const app = new App({ outdir: "cdktf.out" });
  const stack = new TerraformStack(app, "fleet");
  config.targets.forEach((target, h) => {
    const host = new WebshareHost(stack, `host${h}`, {
      host: target.host,
      port: target.port,
      user: target.user,
      privateKeyPath: target.key,
      hostKey: target.hostKey,
      home: target.home,
      python: target.python,
      errorLog: target.errorLog,
      apache: ApacheMode.selfManaged({
        confDir: target.confDir,
        testCommand: target.testCommand.trim().split(/\s+/),
        reloadCommand: target.reloadCommand.trim().split(/\s+/),
      }),
    });
    for (let a = 0; a < config.apps; a++) {
      const name = fleetAppName(h, a);
      addFleetApp(stack, host, name, { wheelhouse: config.wheelhouse, healthUrl: new URL(`${name}/health`, target.url).toString() });
    }
  });
  app.synth();
}
