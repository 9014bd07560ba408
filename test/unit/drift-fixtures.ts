import type { AppUnitSpec, VenvUnitSpec } from "../../lib/spec";

/** Unit specs for the drift and lock unit tests (as a synth would write them). */
export const host = {
  name: "site/host",
  connection: { host: "web.example", port: 22, user: "www", useAgent: false, hostKey: "SHA256:x", connectTimeoutSeconds: 10 },
  home: "/home/www",
  python: "/usr/bin/python3",
  modWsgiModules: [],
  apache: { mode: "managed" as const },
  stateDir: ".webshare",
};

export function venvSpec(overrides: Partial<VenvUnitSpec> = {}): VenvUnitSpec {
  return {
    kind: "venv",
    specVersion: 1,
    unit: "site/venv",
    host,
    venvPath: "private/venv",
    venvsDir: "private/venvs/private-venv",
    requirementsPath: "private/requirements.txt",
    freezePath: "private/freeze.txt",
    requirementsFile: "app/requirements.txt",
    lockFile: "app/requirements.lock",
    requirements: ["Flask>=3"],
    packages: { flask: "3.0.0", Werkzeug: "3.0.1" },
    installSha256: "0".repeat(64),
    source: { extraIndexUrls: [], noIndex: false },
    wheelhouseFiles: {},
    upgradePip: false,
    apps: [],
    keep: 2,
    ...overrides,
  } as VenvUnitSpec;
}

export const appSpec: AppUnitSpec = {
  kind: "app",
  specVersion: 1,
  unit: "site/app",
  host,
  source: "app",
  exclude: ["__pycache__", "*.pyc"],
  files: { "app.py": "a".repeat(64), "static/x.css": "b".repeat(64) },
  appDir: "public",
  releasesDir: "private/releases/public",
  entryPoint: "public/wwwshare.wsgi",
  module: "app",
  callable: "app",
  mount: "/",
  staticDirs: {},
  daemon: { name: "d", processes: 2, threads: 15 },
  environment: {},
  venvPath: "private/venv",
  apacheConfigSha256: "c".repeat(64),
  entryPointSha256: "e".repeat(64),
  keep: 2,
};
