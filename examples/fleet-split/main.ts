/**
 * A fleet split into stacks: one stack per named group of hosts, built from fleet.json, each
 * with its own state. Plan time and state size then grow with the group, not with the fleet.
 * See README.md beside this file for the rules (a host's units stay in one stack; groups are
 * named, never derived from a host's position in the list).
 */
import * as fs from "node:fs";
import { App, LocalBackend, TerraformStack } from "cdktf"; // or "cdktn"
import { Construct } from "constructs";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "webshare-cdktf";

/** fleet.json: groups of hosts, each host with the apps it serves. */
interface Fleet {
  readonly groups: Record<string, readonly FleetHost[]>;
}

interface FleetHost {
  /** Construct id of the host in its stack: stable, unique in the group. */
  readonly id: string;
  readonly host: string;
  readonly user: string;
  readonly hostKey: string;
  readonly apps: readonly FleetApp[];
}

interface FleetApp {
  /** Construct id: stable; it names the unit (and its lock and record on the host). */
  readonly id: string;
  /** Local source dir with app.py and requirements.lock. */
  readonly source: string;
  readonly entry: string;
  readonly mount: string;
  readonly healthUrl: string;
}

class FleetGroup extends TerraformStack {
  constructor(scope: Construct, id: string, hosts: readonly FleetHost[]) {
    super(scope, id);
    // One state per group. With a team, a shared backend instead (examples/shared-state):
    // e.g. PgBackend with schemaName `webshare_${id}`, or S3 with key `webshare/${id}.tfstate`.
    new LocalBackend(this, { path: `state/${id}.tfstate` });
    for (const h of hosts) {
      const host = new WebshareHost(this, h.id, {
        host: h.host,
        user: h.user,
        privateKeyPath: "~/.ssh/id_ed25519",
        hostKey: h.hostKey,
        apache: ApacheMode.managed(),
      });
      for (const a of h.apps) {
        // Several apps on one host: each its own venv path, app dir and mount.
        const venv = new Venv(this, `${h.id}-${a.id}-venv`, { host, lock: `${a.source}/requirements.lock`, path: `private/${a.id}/venv` });
        new WsgiApp(this, `${h.id}-${a.id}`, {
          host,
          venv,
          source: a.source,
          entry: a.entry,
          mount: a.mount,
          appDir: `apps/${a.id}`,
          healthCheck: { url: a.healthUrl },
        });
      }
    }
  }
}

const fleet = JSON.parse(fs.readFileSync("fleet.json", "utf8")) as Fleet;
const app = new App();
for (const [group, hosts] of Object.entries(fleet.groups)) new FleetGroup(app, `fleet-${group}`, hosts);
app.synth();
