import type { ConnectionSpec } from "../../lib/spec";
import type { Target } from "./local-host";

/**
 * The spec a provisioner gets in WEBSHARE_UNIT to destroy a venv under `dir` in the target's
 * home (what a deployed venv leaves: its dirs and their parent, removed if empty).
 */
export function venvDestroyUnit(target: Target, connection: ConnectionSpec, unit: string, dir: string): object {
  return {
    kind: "venv",
    specVersion: 1,
    unit,
    host: { name: "test/host", connection, home: target.home, python: target.python, modWsgiModules: [], apache: { mode: "managed" }, stateDir: ".webshare" },
    venvPath: `${dir}/venv`,
    venvsDir: `${dir}/private/venvs`,
    requirementsPath: `${dir}/requirements.txt`,
    freezePath: `${dir}/freeze.txt`,
  };
}
