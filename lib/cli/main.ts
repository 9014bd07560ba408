#!/usr/bin/env node
/**
 * The `webshare` entry point, kept tiny on purpose: a provisioner under `webshare deploy`
 * (`provision create|destroy` with the broker's socket in its environment) hands its unit to
 * the deploy process through a client that loads only Node built-ins (provision-client.ts),
 * so it never pays for loading the CLI; everything else is the full CLI (full.ts). Nothing
 * heavy may be imported here: TypeScript hoists imports above this code.
 */
import { BROKER_ENV } from "../ssh/broker-env";
import { provisionThroughBroker } from "./provision-client";

const [command, action, ...rest] = process.argv.slice(2);
const socketPath = process.env[BROKER_ENV];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const full = () => require("./full");
if (command === "provision" && (action === "create" || action === "destroy") && rest.length === 0 && socketPath !== undefined && socketPath !== "") {
  provisionThroughBroker(action, socketPath, full);
} else {
  full();
}
