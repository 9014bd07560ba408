/**
 * The example stack: deploys examples/demo-app to the host named by WEBSHARE_* environment
 * variables, so any host can be targeted without editing code (see README). `npm run demo`
 * starts a local host and sets them when WEBSHARE_HOST is unset.
 */
import { App, PgBackend, PgBackendConfig, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "./constructs";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: set the WEBSHARE_* variables (see README "Point it at a real host"), or run 'npm run demo' to use a local host`);
  }
  return value;
}

const optional = (name: string): string | undefined => (process.env[name] === "" ? undefined : process.env[name]);
const optionalNumber = (name: string): number | undefined => (optional(name) === undefined ? undefined : Number(optional(name)));

/** A command given in one environment variable, split on whitespace into an argv. */
const argv = (name: string): string[] => required(name).trim().split(/\s+/);

function apacheMode(): ApacheMode {
  const mode = optional("WEBSHARE_APACHE") ?? "managed";
  if (mode === "managed") return ApacheMode.managed();
  if (mode === "self") {
    return ApacheMode.selfManaged({
      confDir: required("WEBSHARE_APACHE_CONF_DIR"),
      testCommand: argv("WEBSHARE_APACHE_TEST"),
      reloadCommand: argv("WEBSHARE_APACHE_RELOAD"),
    });
  }
  throw new Error(`WEBSHARE_APACHE must be "managed" or "self", not ${JSON.stringify(mode)}`);
}

/**
 * Where the state lives. Default: a local file beside the project (one machine). With
 * WEBSHARE_STATE=pg, a PostgreSQL database shared by every checkout of the project (state
 * lock included); the connection string comes from PG_CONN_STR when the engine runs, so no
 * password enters cdk.tf.json. See examples/shared-state.
 */
function stateBackend(stack: TerraformStack, id: string): void {
  const kind = optional("WEBSHARE_STATE") ?? "local";
  if (kind === "local") return;
  if (kind !== "pg") throw new Error(`WEBSHARE_STATE must be "local" or "pg", not ${JSON.stringify(kind)}`);
  // conn_str left out on purpose: OpenTofu/Terraform read PG_CONN_STR from the environment.
  new PgBackend(stack, { schemaName: optional("WEBSHARE_STATE_PG_SCHEMA") ?? `webshare_${id.replace(/\W/g, "_")}` } as PgBackendConfig);
}

class DemoStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    stateBackend(this, id);
    const source = optional("WEBSHARE_APP_DIR") ?? "examples/demo-app";
    const url = required("WEBSHARE_URL");
    const sshConfigFile = optional("WEBSHARE_SSH_CONFIG");
    const knownHostsFile = optional("WEBSHARE_KNOWN_HOSTS");
    const port = optional("WEBSHARE_PORT");
    const hostKey = knownHostsFile === undefined ? required("WEBSHARE_HOST_KEY") : optional("WEBSHARE_HOST_KEY");
    const attempts = optional("WEBSHARE_CONNECT_ATTEMPTS");
    const host = new WebshareHost(this, "host", {
      host: required("WEBSHARE_HOST"),
      // With an ssh config, what is not set here comes from it at apply time.
      port: port !== undefined ? Number(port) : sshConfigFile === undefined ? 22 : undefined,
      user: sshConfigFile === undefined ? required("WEBSHARE_USER") : optional("WEBSHARE_USER"),
      privateKeyPath: optional("WEBSHARE_KEY"),
      passphraseEnv: optional("WEBSHARE_KEY_PASSPHRASE_ENV"),
      hostKey: hostKey?.includes(",") ? hostKey.split(",") : hostKey,
      knownHostsFile,
      sshConfigFile,
      jumpHosts: optional("WEBSHARE_JUMP")
        ?.split(",")
        .map((hop) => {
          const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(hop);
          if (!m) throw new Error(`WEBSHARE_JUMP: ${JSON.stringify(hop)} is not [user@]host[:port]`);
          return { user: m[1], host: m[2], port: m[3] === undefined ? undefined : Number(m[3]), hostKey: optional("WEBSHARE_JUMP_HOST_KEY") };
        }),
      connectAttempts: attempts === undefined ? undefined : Number(attempts),
      home: optional("WEBSHARE_HOME"),
      python: optional("WEBSHARE_PYTHON"),
      errorLog: optional("WEBSHARE_ERROR_LOG"),
      apache: apacheMode(),
    });
    const wheelhouse = optional("WEBSHARE_WHEELHOUSE");
    const venv = new Venv(this, "venv", {
      host,
      path: optional("WEBSHARE_VENV_PATH"),
      requirements: `${source}/requirements.txt`,
      lock: `${source}/requirements.lock`,
      // The demo keeps a local copy of what was installed (opt-in; the host's freeze.txt is the record).
      localFreezeFile: `${source}/freeze.txt`,
      wheelhouse,
      noIndex: wheelhouse !== undefined,
    });
    // WEBSHARE_VENV_ONLY: a stack of the Venv alone (tests: another stack's venv on the same home).
    if (optional("WEBSHARE_VENV_ONLY") !== undefined) return;
    const databaseYml = optional("WEBSHARE_DATABASE_YML");
    // "A=B,C=D": the app's variable (or remote file path) = the NAME of the deploying machine's variable.
    const pairs = (name: string) =>
      optional(name)
        ?.split(",")
        .map((pair) => {
          const [key, variable] = pair.split("=");
          if (!key || !variable) throw new Error(`${name}: ${JSON.stringify(pair)} is not KEY=VARIABLE_NAME`);
          return [key, variable] as const;
        });
    const secretEnvironment = pairs("WEBSHARE_SECRET_ENV");
    const secretFiles = pairs("WEBSHARE_SECRET_FILES");
    new WsgiApp(this, "app", {
      host,
      venv,
      source,
      entry: "app:app",
      staticDirs: { "/static": "static" },
      databaseYml: databaseYml ? { file: databaseYml } : undefined,
      secretEnvironment: secretEnvironment && Object.fromEntries(secretEnvironment),
      secretFiles: secretFiles && Object.fromEntries(secretFiles.map(([file, variable]) => [file, { fromEnv: variable }])),
      sharedPaths: optional("WEBSHARE_SHARED_PATHS")?.split(","),
      daemon: {
        maximumRequests: optional("WEBSHARE_MAX_REQUESTS") ? Number(optional("WEBSHARE_MAX_REQUESTS")) : undefined,
        startupTimeout: optionalNumber("WEBSHARE_STARTUP_TIMEOUT"),
        requestTimeout: optionalNumber("WEBSHARE_REQUEST_TIMEOUT"),
        gracefulTimeout: optionalNumber("WEBSHARE_GRACEFUL_TIMEOUT"),
        lang: optional("WEBSHARE_DAEMON_LOCALE"),
        locale: optional("WEBSHARE_DAEMON_LOCALE"),
        user: optional("WEBSHARE_DAEMON_USER"),
      },
      healthCheck: {
        url: new URL("health", url.endsWith("/") ? url : url + "/").toString(),
        timeoutSeconds: Number(optional("WEBSHARE_HEALTH_TIMEOUT") ?? "30"),
        memoryWarnBytes: optionalNumber("WEBSHARE_MEMORY_WARN_BYTES"),
      },
    });
  }
}

const app = new App();
new DemoStack(app, optional("WEBSHARE_STACK") ?? "demo");
app.synth();
