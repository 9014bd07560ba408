/**
 * The variable that tells a provisioner process where the broker of a `webshare deploy` run
 * listens. Its own module, without imports, so the provisioner's thin client
 * (lib/cli/provision-client.ts) can read it before any heavy module loads.
 */
export const BROKER_ENV = "WEBSHARE_SSH_BROKER";
