import { z } from "zod";

/**
 * The desired state of one lifecycle unit, exactly as it is synthesized into a
 * `terraform_data` resource's `input` and read back by the executor at apply time.
 * Everything here is readable in a plan and non-secret: keys are passed as paths and
 * passphrases as environment variable NAMES.
 */

export const SPEC_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const relativePath = z.string().min(1).refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), {
  message: "must be a relative path that stays inside the home directory",
});
const argv = z.array(z.string()).min(1);

/** Pinned host keys: one or more `SHA256:...` fingerprints, or the explicit opt-out alone. */
const hostKeyPins = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/**
 * A jump host (bastion) the connection goes through, in order. Its key is pinned by
 * `hostKey` or by the connection's `knownHostsFile`; credentials default to the target's.
 */
export const jumpHostSpec = z.object({
  /** Host name or address (or an alias of the ssh config, when one is read). */
  host: z.string().min(1),
  /** @default 22, or the ssh config's Port */
  port: z.number().int().min(1).max(65535).optional(),
  /** @default the ssh config's User, else the target's user */
  user: z.string().min(1).optional(),
  hostKey: hostKeyPins.optional(),
  privateKeyPath: z.string().optional(),
  passphraseEnv: z.string().optional(),
});
export type JumpHostSpec = z.infer<typeof jumpHostSpec>;

export const connectionSpec = z.object({
  /** Host name, address, or (with `sshConfigFile`) an alias of that config. */
  host: z.string().min(1),
  /** Absent only with `sshConfigFile`: then the config's Port, else 22. */
  port: z.number().int().min(1).max(65535).optional(),
  /** Absent only with `sshConfigFile`: then the config's User, else the local user name. */
  user: z.string().min(1).optional(),
  /** Local private key path (relative to the project directory, absolute, or ~/...). */
  privateKeyPath: z.string().optional(),
  /** Name of the environment variable that holds the key's passphrase. */
  passphraseEnv: z.string().optional(),
  /** Use the ssh-agent at $SSH_AUTH_SOCK. */
  useAgent: z.boolean(),
  /** Pinned `SHA256:...` fingerprint(s), or the explicit opt-out; absent when `knownHostsFile` pins. */
  hostKey: hostKeyPins.optional(),
  /** Local known_hosts file whose entries for the target and jump hosts are pinned too (read at apply). */
  knownHostsFile: z.string().optional(),
  /** Local OpenSSH client config read at apply for `host` (HostName, User, Port, IdentityFile, ProxyJump). */
  sshConfigFile: z.string().optional(),
  /** Jump hosts, first to last; overrides the ssh config's ProxyJump. */
  jumpHosts: z.array(jumpHostSpec).optional(),
  connectTimeoutSeconds: z.number().int().positive(),
  /** Connect attempts for refused/reset/timed-out connections (never for host key or auth failures). @default 4 */
  connectAttempts: z.number().int().min(1).max(10).optional(),
  /** No new attempt starts later than this many seconds after the first. @default 15 */
  connectRetrySeconds: z.number().min(0).max(600).optional(),
});
export type ConnectionSpec = z.infer<typeof connectionSpec>;

/**
 * The connection settings that belong to the deploying machine, not to the deployment: a
 * laptop and a CI runner may name different keys. They are kept out of the planned spec (the
 * resource's `input`, which Terraform diffs) and reach the provisioner through its
 * `environment` (WEBSHARE_CONNECTION), which Terraform never diffs. host, port, user and the
 * pinned host key are the deployment's identity and stay in the plan.
 */
export const LOCAL_CONNECTION_FIELDS = ["privateKeyPath", "passphraseEnv", "useAgent", "connectTimeoutSeconds", "knownHostsFile", "sshConfigFile", "connectAttempts", "connectRetrySeconds"] as const;
type LocalField = (typeof LOCAL_CONNECTION_FIELDS)[number];
export const localConnectionSpec = connectionSpec.pick({
  privateKeyPath: true,
  passphraseEnv: true,
  useAgent: true,
  connectTimeoutSeconds: true,
  knownHostsFile: true,
  sshConfigFile: true,
  connectAttempts: true,
  connectRetrySeconds: true,
});
export type LocalConnectionSpec = z.infer<typeof localConnectionSpec>;
export type PlannedConnectionSpec = Omit<ConnectionSpec, LocalField>;
/** A spec with the per-machine connection settings left out: what a plan shows. */
export type Planned<T extends { host: { connection: ConnectionSpec } }> = T extends unknown
  ? Omit<T, "host"> & { host: Omit<T["host"], "connection"> & { connection: PlannedConnectionSpec } }
  : never;

/** Splits a spec into its planned part and the deploying machine's connection settings. */
export function splitConnection<T extends { host: { connection: ConnectionSpec } }>(spec: T): { planned: Planned<T>; local: LocalConnectionSpec } {
  const own = (key: string) => (LOCAL_CONNECTION_FIELDS as readonly string[]).includes(key);
  const entries = Object.entries(spec.host.connection).filter(([, value]) => value !== undefined);
  const local = Object.fromEntries(entries.filter(([key]) => own(key))) as LocalConnectionSpec;
  const identity = Object.fromEntries(entries.filter(([key]) => !own(key)));
  return { planned: { ...spec, host: { ...spec.host, connection: identity } } as unknown as Planned<T>, local };
}

/**
 * The planned part (unvalidated, as read from a stack or the environment) with the machine's
 * connection settings put back; `local` wins over anything the planned part still carries
 * (stacks synthesized before the split had all of it in `input`).
 */
export function joinConnection(planned: unknown, local: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObject(planned) || !isObject(planned.host) || !isObject(planned.host.connection) || !isObject(local)) return planned;
  // Only the machine's own fields: the deployment's identity comes from the plan alone.
  const own = Object.fromEntries(Object.entries(local).filter(([key]) => (LOCAL_CONNECTION_FIELDS as readonly string[]).includes(key)));
  return { ...planned, host: { ...planned.host, connection: { ...planned.host.connection, ...own } } };
}

export const apacheSpec = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("managed") }),
  z.object({
    mode: z.literal("self"),
    confDir: z.string().min(1),
    testCommand: argv,
    reloadCommand: argv,
  }),
]);
export type ApacheSpec = z.infer<typeof apacheSpec>;

export const hostSpec = z.object({
  /** Construct path of the WebshareHost, for messages. */
  name: z.string(),
  connection: connectionSpec,
  home: z.string().startsWith("/"),
  python: z.string().min(1),
  /** mod_wsgi module paths to inspect for the Python it runs; empty = skip the check. */
  modWsgiModules: z.array(z.string()),
  apache: apacheSpec,
  /** Home-relative directory for the tool's own bookkeeping (lock, unit records). */
  stateDir: relativePath,
  /** Apache error log readable by the SSH user; its tail explains a failed health check. */
  errorLog: z.string().optional(),
});
export type HostSpec = z.infer<typeof hostSpec>;

export const packageSourceSpec = z.object({
  indexUrl: z.string().optional(),
  extraIndexUrls: z.array(z.string()),
  noIndex: z.boolean(),
  /** Local wheelhouse directory (project-relative) uploaded to the host. */
  wheelhouse: z.string().optional(),
});
export type PackageSourceSpec = z.infer<typeof packageSourceSpec>;

const healthCheckSpec = z.object({
  url: z.string(),
  expectStatus: z.number().int(),
  timeoutSeconds: z.number().positive(),
  /** The entry point's own report (`<mount>/.webshare/health`), polled until the new release/venv serves; absent = not verified. */
  releaseUrl: z.string().optional(),
  /** The verify warns when the answering daemon's resident memory is above 80% of this; absent = 1 GiB (the hoster's per-process limit). */
  memoryWarnBytes: z.number().int().positive().optional(),
});
export type HealthCheckSpec = z.infer<typeof healthCheckSpec>;

export const venvUnitSpec = z.object({
  kind: z.literal("venv"),
  specVersion: z.literal(SPEC_VERSION),
  unit: z.string(),
  host: hostSpec,
  /** Home-relative path of the venv symlink that mod_wsgi's python-home points at. */
  venvPath: relativePath,
  /** Home-relative directory that holds the real, content-addressed venv directories. */
  venvsDir: relativePath,
  requirementsPath: relativePath,
  freezePath: relativePath,
  /** Local files, project-relative. */
  requirementsFile: z.string().optional(),
  lockFile: z.string().optional(),
  localFreezeFile: z.string().optional(),
  /** Readable desired state: requirement lines and, with a lock, name -> version. */
  requirements: z.array(z.string()),
  packages: z.record(z.string(), z.string()).optional(),
  /** What the installed file (the lock if given, else the requirements) means to pip, by hash (lib/install-identity.ts): comments and order do not count. */
  installSha256: sha256,
  source: packageSourceSpec,
  wheelhouseFiles: z.record(z.string(), sha256),
  upgradePip: z.boolean(),
  /** Apps running in this venv: entry points touched after a switch, health checks run after. */
  /** `daemonUser`: the user an app's mod_wsgi daemon runs as when it is not the deploy user (the venv must stay readable to it). */
  apps: z.array(z.object({ entryPoint: relativePath, healthCheck: healthCheckSpec.optional(), daemonUser: z.string().optional() })),
  keep: z.number().int().min(1),
  /** "3.X" the app needs (from its descriptor); checked against the host's interpreter. */
  pythonVersion: z.string().optional(),
});
export type VenvUnitSpec = z.infer<typeof venvUnitSpec>;

export const daemonSpec = z.object({
  name: z.string(),
  processes: z.number().int(),
  threads: z.number().int(),
  maximumRequests: z.number().int().optional(),
  /** mod_wsgi `startup-timeout=`, `request-timeout=`, `graceful-timeout=` (seconds); absent = mod_wsgi's default. */
  startupTimeout: z.number().int().optional(),
  requestTimeout: z.number().int().optional(),
  gracefulTimeout: z.number().int().optional(),
  displayName: z.string().optional(),
  /** mod_wsgi `lang=` and `locale=` (e.g. "C.UTF-8"); absent = Apache's environment. */
  lang: z.string().optional(),
  locale: z.string().optional(),
  user: z.string().optional(),
  group: z.string().optional(),
});
export type DaemonSpec = z.infer<typeof daemonSpec>;

export const appUnitSpec = z.object({
  kind: z.literal("app"),
  specVersion: z.literal(SPEC_VERSION),
  unit: z.string(),
  host: hostSpec,
  /** Local source directory, project-relative. */
  source: z.string(),
  exclude: z.array(z.string()),
  /** Relative file path -> sha256 of its content: a plan shows which files change. */
  files: z.record(z.string(), sha256),
  appDir: relativePath,
  releasesDir: relativePath,
  entryPoint: relativePath,
  module: z.string(),
  callable: z.string(),
  mount: z.string(),
  /** URL path -> directory inside the app, served by Apache `Alias`. */
  staticDirs: z.record(z.string(), z.string()),
  daemon: daemonSpec,
  environment: z.record(z.string(), z.string()),
  /**
   * Commands run on the host in the NEW release dir with the new venv's bin first on PATH and
   * the app's environment, under the host lock, after the upload and before the switch (e.g.
   * migrate, collectstatic); absent = none. A failure keeps the old release serving.
   */
  releaseCommands: z.array(argv.refine((a) => a[0] !== "" && !a[0].includes("="), { message: "must start with a program name" })).optional(),
  /** false: skip the import of `module:callable` in the new release before the switch; absent = check. */
  importCheck: z.literal(false).optional(),
  venvPath: relativePath,
  healthCheck: healthCheckSpec.optional(),
  /** database.yml installed with mode 0600: where from (a file path or env var NAMES) and a keyed hash, never the content. */
  databaseYml: z
    .object({
      path: relativePath,
      file: z.string().optional(),
      fromEnv: z.record(z.string(), z.string()).optional(),
      digest: z.string(),
    })
    .optional(),
  /**
   * Secret environment values: written as a JSON object (mode 0600) to `path`, which the entry
   * point, the import check and the release commands load; `fromEnv` maps each app variable to
   * the NAME of the deploying environment's variable that holds it; a keyed hash, never a value.
   * Absent = none.
   */
  secretEnvironment: z.object({ path: relativePath, fromEnv: z.record(z.string(), z.string()), digest: z.string() }).optional(),
  /** Secret files, each written with mode 0600: where from (a local file or an env var NAME) and a keyed hash. Absent = none. */
  secretFiles: z.array(z.object({ path: relativePath, file: z.string().optional(), fromEnv: z.string().optional(), digest: z.string() })).optional(),
  /**
   * Paths inside every release (directories) that are symlinks to `<dir>/<path>`, outside the
   * releases: data that survives releases and rollbacks (uploads, sqlite databases). Never
   * removed by a deploy, prune, inventory or destroy. Absent = none.
   */
  sharedPaths: z.object({ dir: relativePath, paths: z.array(z.string()).min(1) }).optional(),
  /** sha256 of the rendered Apache config, so a plan shows when it changes. */
  apacheConfigSha256: sha256,
  /** sha256 of the rendered entry point. */
  entryPointSha256: sha256,
  keep: z.number().int().min(1),
});
export type AppUnitSpec = z.infer<typeof appUnitSpec>;

export const unitSpec = z.discriminatedUnion("kind", [venvUnitSpec, appUnitSpec]);
export type UnitSpec = z.infer<typeof unitSpec>;

/**
 * What a real destroy needs: the paths a unit owns. It lives in its own long-lived resource
 * because Terraform runs no destroy provisioner for a tainted (failed) or deposed object.
 */
export const venvRemovalSpec = venvUnitSpec.pick({ kind: true, specVersion: true, unit: true, host: true, venvPath: true, venvsDir: true, requirementsPath: true, freezePath: true });
export type VenvRemovalSpec = z.infer<typeof venvRemovalSpec>;
export const appRemovalSpec = appUnitSpec.pick({ kind: true, specVersion: true, unit: true, host: true, appDir: true, releasesDir: true });
export type AppRemovalSpec = z.infer<typeof appRemovalSpec>;
export const removalSpec = z.discriminatedUnion("kind", [venvRemovalSpec, appRemovalSpec]);
export type RemovalSpec = z.infer<typeof removalSpec>;

export function removalSpecOf(spec: UnitSpec): RemovalSpec {
  return spec.kind === "venv" ? venvRemovalSpec.parse(spec) : appRemovalSpec.parse(spec);
}
