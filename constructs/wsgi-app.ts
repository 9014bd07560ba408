import { Construct } from "constructs";
// The type only (erased at run time): the package works under cdktn too (lib/cdk.ts).
import type { TerraformResource } from "cdktf";
import { z } from "zod";
import * as fs from "node:fs";
import * as path from "node:path";
import type { AppUnitSpec, DaemonSpec } from "../lib/spec";
import { SPEC_VERSION } from "../lib/spec";
import * as v from "../lib/props-validation";
import { errors } from "../lib/errors";
import { homePathChecker, slug } from "../lib/paths";
import { entryPointName } from "../lib/render/unit-files";
import { effectiveExcludes, hashTree, sourceTreeProblems } from "../lib/local-files";
import { renderedHashes } from "../lib/render/unit-files";
import { HEALTH_PATH } from "../lib/render/entry-point";
import { DatabaseYmlOptions, databaseYmlDigest, readDatabaseYml } from "../lib/database-yml";
import { readSecretEnvironment, readSecretFile, secretDigest, SecretFileSource } from "../lib/secrets";
import { normalizeSharedPath, sharedPathProblems } from "../lib/shared-paths";
import { isExcluded } from "../lib/local-files";
import { readDescriptor } from "../lib/descriptor";
import { urlCredentialProblems } from "../lib/redact";
import { unitOverlapProblems } from "../lib/remote-paths";
import { WebshareHost } from "./webshare-host";
import { Venv } from "./venv";
import { createUnitResource } from "./unit-resource";
import { otherDaemonUser } from "../lib/lifecycle/modes";
import { ownedBy } from "../lib/inventory-spec";
import { brand, hasBrand } from "./brand";

/** mod_wsgi daemon process options (WSGIDaemonProcess). */
export interface DaemonOptions {
  /** Daemon processes of the app. @default 2 */
  readonly processes?: number;
  /** Threads per daemon process. @default 15 */
  readonly threads?: number;
  /** Recycle a process after this many requests (keeps memory under the host's 1 GiB limit). @default - never */
  readonly maximumRequests?: number;
  /**
   * Seconds a daemon process whose first load of the app failed keeps retrying before it is
   * restarted (mod_wsgi `startup-timeout`); a fresh process does not carry the failed load's
   * half-imported modules. @default - mod_wsgi's default (never restarted for that)
   */
  readonly startupTimeout?: number;
  /**
   * Seconds a request may run before its daemon process is restarted (mod_wsgi
   * `request-timeout`; with several threads, when the running requests' times averaged over
   * all threads pass it), so requests that hang cannot block the app for good.
   * @default - mod_wsgi's default (none)
   */
  readonly requestTimeout?: number;
  /**
   * Seconds a daemon process that is to be recycled (`maximumRequests` reached, an Apache
   * graceful restart) waits for its running requests before the normal shutdown
   * (mod_wsgi `graceful-timeout`). @default - mod_wsgi's default
   */
  readonly gracefulTimeout?: number;
  /** Process name shown by ps. @default "%{GROUP}" */
  readonly displayName?: string;
  /** `LANG` of the daemon processes (mod_wsgi `lang`), e.g. "C.UTF-8". @default - Apache's environment (often "C": ASCII file names) */
  readonly lang?: string;
  /** Locale of the daemon processes (mod_wsgi `locale`), e.g. "C.UTF-8". @default - Apache's environment */
  readonly locale?: string;
  /**
   * Run the daemon as this user (only when Apache starts as root). @default - self-managed:
   * the user Apache runs as; managed: the deploy user (`connection.user`; when an ssh config
   * gives the user instead, the snippet asks the hoster to fill it in)
   */
  readonly user?: string;
  /** Run the daemon with this group (only when Apache starts as root). @default - managed with the deploy user: a group of the same name; else Apache's choice */
  readonly group?: string;
}

/** The HTTP check that proves a deploy serves. */
export interface HealthCheckOptions {
  /** URL fetched from the deploying machine after the switch. */
  readonly url: string;
  /** HTTP status that counts as healthy. @default 200 */
  readonly expectStatus?: number;
  /** Seconds to keep trying before the deploy switches back and fails. @default 30 */
  readonly timeoutSeconds?: number;
  /**
   * Before the URL, poll the entry point's own report at `<origin of url><mount>/.webshare/health`
   * until it names the release (or venv) just deployed: proof that the NEW code serves. Turn
   * off only if something in front of the app hides that path. @default true
   */
  readonly verifyRelease?: boolean;
  /**
   * The release verify prints the resident memory (VmRSS) of the daemon process that answered,
   * and warns when it is above 80% of this many bytes (the hoster allows 1 GiB per process; use
   * `daemon.maximumRequests` to recycle a process that grows). Needs `verifyRelease`.
   * @default 1073741824 (1 GiB)
   */
  readonly memoryWarnBytes?: number;
}

export interface WsgiAppProps {
  /** The host the app is deployed to. */
  readonly host: WebshareHost;
  /** The venv the app runs in (mod_wsgi python-home). */
  readonly venv: Venv;
  /** Local source directory; its files are uploaded (minus `exclude`). */
  readonly source: string;
  /** `module:callable`, e.g. `app:app`. */
  readonly entry: string;
  /** URL path the app is mounted at. @default "/" */
  readonly mount?: string;
  /** URL path -> directory inside the source served by Apache directly (`Alias`). @default {} */
  readonly staticDirs?: Record<string, string>;
  /** mod_wsgi daemon process options. @default - 2 processes, 15 threads */
  readonly daemon?: DaemonOptions;
  /** Non-secret environment variables set for the app. @default {} */
  readonly environment?: Record<string, string>;
  /** Health check after each deploy. @default - none */
  readonly healthCheck?: HealthCheckOptions;
  /**
   * Commands run on the host before the new release serves, in order, each an argv list, e.g.
   * `[["python", "manage.py", "migrate", "--noinput"], ["python", "manage.py", "collectstatic", "--noinput"]]`.
   * They run under the host lock after the upload, in the NEW release directory, with the
   * venv's `bin` first on PATH (`python` is the venv's interpreter) and the app's
   * `environment` set. A failing command (non-zero exit) fails the deploy before the switch:
   * the previous release keeps serving, and the message names the command, its exit status
   * and the end of its output. They run again when a release already on the host is
   * deployed again, so they must be safe to repeat (migrate and collectstatic are). A
   * rollback does not run them and does not undo them (migrations are not reversed).
   * @default - none
   */
  readonly releaseCommands?: string[][];
  /**
   * Before the switch, import the entry's module in the new release with the new venv and the
   * app's environment (60 s timeout), so an app that crashes or hangs at import fails the
   * deploy while the old release still serves. Turn off only for a module that cannot be
   * imported outside mod_wsgi (e.g. it imports `mod_wsgi` at the top). @default true
   */
  readonly importCheck?: boolean;
  /** App directory on the host. @default - the host layout's public dir ("public") */
  readonly appDir?: string;
  /** Entry point on the host. @default - "wwwshare.wsgi" in the app directory */
  readonly entryPoint?: string;
  /**
   * More file and directory names (globs `*`, `?`) or relative paths left out of the upload,
   * ADDED to the defaults: __pycache__, *.pyc, .git, .gitignore, .venv, venv, node_modules,
   * .DS_Store, .env* (dotenv files). @default - only the defaults
   */
  readonly exclude?: string[];
  /**
   * Default excludes to upload after all, each named exactly as in the defaults (e.g.
   * `[".git"]` uploads the repository, `[".env*"]` dotenv files). @default - none
   */
  readonly include?: string[];
  /** Previous releases kept for rollback. @default 2 */
  readonly keep?: number;
  /**
   * Install the app's database settings with mode 0600 at `path` (home-relative; default
   * `<private>/database.yml`): a local `file`, or `fromEnv` (YAML key -> NAME of an environment
   * variable). The content is read at synth and apply time and never enters the plan or state;
   * only a keyed hash does. Each app on a host needs its own `path`. Destroy leaves the file in
   * place. @default - not managed
   */
  readonly databaseYml?: DatabaseYmlOptions;
  /**
   * Secret environment variables of the app: app variable -> NAME of the variable of the
   * deploying environment that holds its value, e.g. `{ SECRET_KEY: "DJANGO_SECRET_KEY" }`.
   * The values are read on the deploying machine (at synth for a keyed hash, at apply to write
   * them) and written to `<private>/secrets/<appDir slug>.json` on the host with mode 0600,
   * which the entry point, the import check and the release commands load. The plan and state
   * hold the NAMES and a keyed hash only. @default {}
   */
  readonly secretEnvironment?: Record<string, string>;
  /**
   * Secret files: home-relative path on the host -> where the content comes from, a local
   * `{ file }` or `{ fromEnv: "VARIABLE_NAME" }` (text, read as UTF-8). Written with mode 0600 before the new
   * release serves; the plan and state hold the source's name and a keyed hash only. Destroy
   * leaves them in place. @default {}
   */
  readonly secretFiles?: Record<string, SecretFileSource>;
  /**
   * Directories inside the release (relative to it) that are symlinks into the app's shared
   * directory `<private>/shared/<appDir slug>/`, outside the releases, e.g.
   * `["uploads", "data"]` (put a sqlite database in such a directory). What the app writes
   * there survives every deploy and rollback; a deploy creates each directory once and never
   * empties it, and prune, the inventory and destroy leave it. They may not hold app source
   * files or overlap a static directory. @default []
   */
  readonly sharedPaths?: string[];
  /**
   * Units to deploy before this app, e.g. the app whose `secretFiles` or `databaseYml` this
   * one reads at import: a `WsgiApp` or `Venv` (its deploy), or any construct (every
   * Terraform resource inside it). The same as `app.node.addDependency(other)`.
   * @default - only the app's own venv
   */
  readonly dependsOn?: Construct[];
}

/** A mod_wsgi timeout: whole seconds, up to a day. */
const seconds = z.number().int({ message: "must be a whole number of seconds, 1-86400" }).min(1, { message: "must be a whole number of seconds, 1-86400" }).max(86_400, { message: "must be a whole number of seconds, 1-86400" });
/** A locale name such as C.UTF-8, en_US.UTF-8 or de_DE@euro: nothing Apache would parse. */
const localeName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.@-]{0,63}$/, { message: 'must be a locale name such as "C.UTF-8" or "en_US.UTF-8" (a letter, then letters, digits and _ . @ -)' });

const daemonSchema = z
  .object({
    processes: z.number().int().min(1, { message: "must be 1-64" }).max(64, { message: "must be 1-64" }).optional(),
    threads: z.number().int().min(1, { message: "must be 1-256" }).max(256, { message: "must be 1-256" }).optional(),
    maximumRequests: z.number().int().min(1, { message: "must be 1-10000000" }).max(10_000_000, { message: "must be 1-10000000" }).optional(),
    startupTimeout: seconds.optional(),
    requestTimeout: seconds.optional(),
    gracefulTimeout: seconds.optional(),
    displayName: z.string().regex(/^[A-Za-z0-9_%{}.-]{1,64}$/, { message: "may only contain letters, digits and _ % { } . -" }).optional(),
    lang: localeName.optional(),
    locale: localeName.optional(),
    user: v.userName.optional(),
    group: v.userName.optional(),
  })
  .strict();

const propsSchema = z
  .object({
    host: z.custom<WebshareHost>(WebshareHost.isWebshareHost, { message: "must be a WebshareHost" }),
    venv: z.custom<Venv>(Venv.isVenv, { message: "must be a Venv" }),
    source: v.localPath,
    entry: v.entry,
    mount: v.urlPath.optional(),
    staticDirs: z.record(v.urlPath, v.remotePath).optional(),
    daemon: daemonSchema.optional(),
    environment: v.environmentVariables.optional(),
    releaseCommands: v.releaseCommands.optional(),
    importCheck: z.boolean().optional(),
    healthCheck: z
      .object({
        url: v.httpUrl,
        expectStatus: z.number().int().min(100, { message: "must be an HTTP status 100-599" }).max(599, { message: "must be an HTTP status 100-599" }).optional(),
        timeoutSeconds: z.number().min(1, { message: "must be 1-600" }).max(600, { message: "must be 1-600" }).optional(),
        verifyRelease: z.boolean().optional(),
        memoryWarnBytes: z
          .number()
          .int({ message: "must be a whole number of bytes, at least 1048576 (1 MiB)" })
          .min(1 << 20, { message: "must be a whole number of bytes, at least 1048576 (1 MiB)" })
          .max(Number.MAX_SAFE_INTEGER, { message: "must be a whole number of bytes, at least 1048576 (1 MiB)" })
          .optional(),
      })
      .strict()
      .optional(),
    appDir: v.remotePath.optional(),
    entryPoint: v.remotePath.optional(),
    exclude: z.array(z.string().min(1)).optional(),
    include: z.array(z.string().min(1)).optional(),
    keep: z.number().int().min(1, { message: "must be 1-20" }).max(20, { message: "must be 1-20" }).optional(),
    databaseYml: z
      .union([
        z.object({ file: v.localPath, path: v.remotePath.optional() }).strict(),
        z.object({ fromEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a simple YAML key" }), v.envVarName), path: v.remotePath.optional() }).strict(),
      ], { message: 'must be { file: "path" } or { fromEnv: { key: "ENV_VAR_NAME" } }, each with an optional path on the host' })
      .optional(),
    secretEnvironment: z.record(v.envVarName, v.envVarName).optional(),
    secretFiles: z
      .record(
        v.remotePath,
        z.union([z.object({ file: v.localPath }).strict(), z.object({ fromEnv: v.envVarName }).strict()], { message: 'must be { file: "local path" } or { fromEnv: "ENV_VAR_NAME" }' }),
      )
      .optional(),
    sharedPaths: z.array(z.string().min(1)).optional(),
    dependsOn: z.array(z.custom<Construct>((x) => Construct.isConstruct(x), { message: "must be a construct (a WsgiApp, a Venv, ...)" })).optional(),
  })
  .strict();

/** Where an app's files go on the host and what it already checked, for `appFilesOf`. */
interface AppFilesContext {
  readonly privateDir: string;
  readonly appDir: string;
  readonly entryPoint: string;
  readonly exclude: readonly string[];
  /** Checks a remote path prop and returns it home-relative (`homePathChecker`). */
  readonly remote: (field: string, value: string) => string;
  /** Problems found, and the remote paths the app owns: both appended to. */
  readonly problems: string[];
  readonly ownPaths: { field: string; path: string }[];
}

/**
 * The spec fields of an app's files outside its releases and of its shared data:
 * `databaseYml`, `secretEnvironment`, `secretFiles` and `sharedPaths`. Secrets are read here
 * (from the deploying environment or local files) only for their keyed digests.
 */
function appFilesOf(unit: string, p: z.infer<typeof propsSchema>, at: AppFilesContext): Pick<AppUnitSpec, "databaseYml" | "secretEnvironment" | "secretFiles" | "sharedPaths"> {
  let databaseYml: AppUnitSpec["databaseYml"];
  if (p.databaseYml !== undefined) {
    const { path: ymlPathProp, ...source } = p.databaseYml;
    const ymlPath = at.remote("databaseYml.path", ymlPathProp ?? `${at.privateDir}/database.yml`);
    const read = readDatabaseYml(source, process.env);
    if (read.problem !== undefined) at.problems.push(`databaseYml ${read.problem}`);
    else {
      databaseYml = { path: ymlPath, ...source, digest: databaseYmlDigest(unit, read.text!) };
      at.ownPaths.push({ field: "databaseYml.path", path: ymlPath });
    }
  }
  let secretEnvironment: AppUnitSpec["secretEnvironment"];
  if (p.secretEnvironment !== undefined && Object.keys(p.secretEnvironment).length > 0) {
    const both = Object.keys(p.secretEnvironment).filter((k) => p.environment?.[k] !== undefined);
    if (both.length > 0) at.problems.push(`secretEnvironment sets ${both.join(", ")}, which environment sets too; set each variable in one of them`);
    const read = readSecretEnvironment(p.secretEnvironment, process.env);
    if (read.problem !== undefined) at.problems.push(`secretEnvironment ${read.problem}`);
    else {
      const envPath = `${at.privateDir}/secrets/${slug(at.appDir)}.json`;
      secretEnvironment = { path: envPath, fromEnv: { ...p.secretEnvironment }, digest: secretDigest(unit, "secretEnvironment", read.text!) };
      at.ownPaths.push({ field: "secret environment file (from appDir)", path: envPath });
    }
  }
  const secretFiles: NonNullable<AppUnitSpec["secretFiles"]> = [];
  for (const [filePath, source] of Object.entries(p.secretFiles ?? {})) {
    const field = `secretFiles[${JSON.stringify(filePath)}]`;
    const relative = at.remote(field, filePath);
    const read = readSecretFile(source, process.env);
    if (read.problem !== undefined) at.problems.push(`${field} ${read.problem}`);
    else {
      secretFiles.push({ path: relative, ...source, digest: secretDigest(unit, `secretFiles ${relative}`, read.text!) });
      at.ownPaths.push({ field, path: relative });
    }
  }
  let sharedPaths: AppUnitSpec["sharedPaths"];
  if (p.sharedPaths !== undefined && p.sharedPaths.length > 0) {
    const sourceEntry = (relative: string): "file" | "dir" | undefined => {
      if (isExcluded(relative, at.exclude)) return undefined;
      const stat = fs.lstatSync(path.join(p.source, relative), { throwIfNoEntry: false });
      return stat === undefined ? undefined : stat.isDirectory() ? "dir" : "file";
    };
    const sharedProblems = sharedPathProblems(p.sharedPaths, { sourceEntry, entryPointName: entryPointName({ entryPoint: at.entryPoint }), staticDirs: Object.values(p.staticDirs ?? {}) });
    at.problems.push(...sharedProblems);
    if (sharedProblems.length === 0) {
      const sharedDir = `${at.privateDir}/shared/${slug(at.appDir)}`;
      sharedPaths = { dir: sharedDir, paths: p.sharedPaths.map((entry) => normalizeSharedPath(entry)!) };
      at.ownPaths.push({ field: "shared directory (from appDir)", path: sharedDir });
    }
  }
  return { databaseYml, secretEnvironment, secretFiles: secretFiles.length > 0 ? secretFiles : undefined, sharedPaths };
}

/** Options of `WsgiApp.fromDescriptor` beyond what the descriptor says. */
export interface DescriptorOptions {
  /** The app's public base URL; with the descriptor's healthPath it makes the health check. @default - no health check */
  readonly url?: string;
  /** Seconds the health check may take. @default 30 */
  readonly healthTimeoutSeconds?: number;
  /**
   * Wait until the entry point's own `<mount>/.webshare/health`, on the host of `url`, names
   * the new release; turn off when something in front of the app hides or moves that path
   * (e.g. a proxy that adds a path prefix). @default true
   */
  readonly verifyRelease?: boolean;
  /** URL path the app is mounted at. @default "/" */
  readonly mount?: string;
  /** App directory on the host. @default - the host layout's public dir */
  readonly appDir?: string;
  /** Venv path on the host. @default - the host layout's venv */
  readonly venvPath?: string;
  /** Local wheel directory for the venv (`--find-links`, with `--no-index`). @default - the package index */
  readonly wheelhouse?: string;
}

/** A Python WSGI app served by Apache + mod_wsgi (daemon mode) on a webshare host. */
export class WsgiApp extends Construct {
  /** True for a WsgiApp from any copy of this package (a brand check, not `instanceof`). */
  static isWsgiApp(x: unknown): x is WsgiApp {
    return hasBrand(x, "WsgiApp");
  }

  /**
   * Build an app and its venv from the app directory's `webshare.json` (see README, "App
   * descriptor"). The venv is a sibling construct named `<id>-venv`. An unknown descriptor
   * version or an invalid field fails synth with the file and field named.
   */
  static fromDescriptor(scope: Construct, id: string, host: WebshareHost, dir: string, options: DescriptorOptions = {}): WsgiApp {
    const read = readDescriptor(dir);
    if (!read.ok) throw errors.invalidProps(`${scope.node.path}/${id}`, read.problems);
    const d = read.descriptor;
    const venv = new Venv(scope, `${id}-venv`, {
      host,
      requirements: d.requirements ? path.join(dir, d.requirements) : undefined,
      lock: d.lock ? path.join(dir, d.lock) : undefined,
      pythonVersion: d.python,
      path: options.venvPath,
      wheelhouse: options.wheelhouse,
      noIndex: options.wheelhouse !== undefined,
    });
    const missing = (d.env ?? []).filter((name) => process.env[name] === undefined);
    if (missing.length > 0) throw errors.invalidProps(`${scope.node.path}/${id}`, [`webshare.json env names ${missing.join(", ")}, which are not set in the deploying environment`]);
    const base = options.url === undefined ? undefined : options.url.endsWith("/") ? options.url : options.url + "/";
    return new WsgiApp(scope, id, {
      host,
      venv,
      source: dir,
      entry: d.entry,
      mount: options.mount,
      appDir: options.appDir,
      staticDirs: d.staticDirs,
      environment: Object.fromEntries((d.env ?? []).map((name) => [name, process.env[name]!])),
      releaseCommands: d.releaseCommands,
      healthCheck:
        base !== undefined && d.healthPath !== undefined
          ? { url: new URL(d.healthPath.replace(/^\//, ""), base).toString(), timeoutSeconds: options.healthTimeoutSeconds, verifyRelease: options.verifyRelease }
          : undefined,
    });
  }

  readonly host: WebshareHost;
  readonly venv: Venv;
  /** Home-relative app directory and entry point on the host. */
  readonly appDir: string;
  readonly entryPoint: string;
  readonly mount: string;
  readonly resource: TerraformResource;
  private readonly staticDirs: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: WsgiAppProps) {
    super(scope, id);
    brand(this, "WsgiApp");
    const parsed = v.check(propsSchema, props);
    if (!parsed.ok) throw errors.invalidProps(this.node.path, parsed.problems);
    const p = parsed.value;
    this.host = p.host;
    this.venv = p.venv;
    this.mount = p.mount ?? "/";
    const home = this.host.spec.home;
    const { host: _host, venv: _venv, dependsOn: _dependsOn, ...plainProps } = p;
    const problems: string[] = urlCredentialProblems(plainProps);
    if (p.healthCheck?.memoryWarnBytes !== undefined && p.healthCheck.verifyRelease === false) {
      problems.push("healthCheck.memoryWarnBytes needs verifyRelease: the memory is read from the entry point's report, which verifyRelease: false skips");
    }
    const remote = homePathChecker(home, problems);
    const layout = this.host.layout;
    this.appDir = remote("appDir", p.appDir ?? layout.publicDir);
    this.entryPoint = remote("entryPoint", p.entryPoint ?? (this.appDir === layout.publicDir ? layout.entryPoint : `${this.appDir}/wwwshare.wsgi`));
    if (path.posix.dirname(this.entryPoint) !== this.appDir) {
      problems.push(`entryPoint ${JSON.stringify(this.entryPoint)} must be a file directly inside appDir ${JSON.stringify(this.appDir)}`);
    }
    if (this.venv.host !== this.host) problems.push(`venv ${this.venv.node.path} is on host ${this.venv.host.node.path}, not on ${this.host.node.path}`);
    const projectRelative = (file: string) => path.relative(p.source, file).split(path.sep).join("/");
    const chosen = effectiveExcludes(p.exclude, p.include);
    problems.push(...chosen.problems);
    const exclude = [
      ...chosen.excludes,
      // The venv's own local files (requirements, lock, freeze, wheelhouse) are not app code.
      ...this.venv.localFiles.map(projectRelative).filter((f) => !f.startsWith("..")),
    ];
    if (!fs.existsSync(p.source) || !fs.statSync(p.source).isDirectory()) {
      problems.push(`source ${JSON.stringify(p.source)} must be an existing local directory (paths are relative to ${process.cwd()})`);
    } else {
      problems.push(...sourceTreeProblems(p.source, exclude).map((problem) => `source ${JSON.stringify(p.source)}: ${problem}`));
    }
    const releasesDir = `${layout.privateDir}/releases/${slug(this.appDir)}`;
    const ownPaths = [
      { field: "appDir", path: this.appDir },
      { field: "releases directory (from appDir)", path: releasesDir },
    ];
    const { databaseYml, secretEnvironment, secretFiles, sharedPaths } = appFilesOf(this.node.path, p, { privateDir: layout.privateDir, appDir: this.appDir, entryPoint: this.entryPoint, exclude, remote, problems, ownPaths });
    if (problems.length === 0) problems.push(...unitOverlapProblems(ownPaths.map((c) => ({ ...c, by: this.node.path }))));
    if (problems.length > 0) throw errors.invalidProps(this.node.path, problems);
    for (const [urlPath, dir] of Object.entries(p.staticDirs ?? {})) this.addStaticDir(urlPath, dir);
    // Reaches the engine as depends_on of this unit's deploy (constructs/unit-resource.ts).
    if (p.dependsOn !== undefined && p.dependsOn.length > 0) this.node.addDependency(...p.dependsOn);

    this.host.claim("URL path", this.mount, this.node.path);
    this.host.claim("app directory", this.appDir, this.node.path);
    this.host.claimPaths(this.node.path, ownPaths);
    const healthCheck = p.healthCheck
      ? {
          url: p.healthCheck.url,
          expectStatus: p.healthCheck.expectStatus ?? 200,
          timeoutSeconds: p.healthCheck.timeoutSeconds ?? 30,
          releaseUrl: p.healthCheck.verifyRelease === false ? undefined : new URL(path.posix.join(this.mount, HEALTH_PATH), p.healthCheck.url).toString(),
          // Present only when set, so apps without it synthesize exactly as before.
          ...(p.healthCheck.memoryWarnBytes !== undefined && { memoryWarnBytes: p.healthCheck.memoryWarnBytes }),
        }
      : undefined;
    this.venv.addApp(this.entryPoint, healthCheck, otherDaemonUser(p.daemon?.user, this.host.spec.connection.user));

    const daemon: DaemonSpec = {
      name: `webshare-${slug(this.node.path)}`,
      processes: p.daemon?.processes ?? 2,
      threads: p.daemon?.threads ?? 15,
      maximumRequests: p.daemon?.maximumRequests,
      startupTimeout: p.daemon?.startupTimeout,
      requestTimeout: p.daemon?.requestTimeout,
      gracefulTimeout: p.daemon?.gracefulTimeout,
      displayName: p.daemon?.displayName,
      lang: p.daemon?.lang,
      locale: p.daemon?.locale,
      user: p.daemon?.user,
      group: p.daemon?.group,
    };
    const [module, callable] = p.entry.split(":");
    const environment = p.environment ?? {};
    // Present in the spec only when set, so apps without them synthesize exactly as before.
    const releaseCommands = p.releaseCommands !== undefined && p.releaseCommands.length > 0 ? p.releaseCommands.map((argv) => [...argv]) : undefined;
    const importCheck = p.importCheck === false ? (false as const) : undefined;

    this.resource = createUnitResource(this, {
      kind: this.host.lifecycleResource,
      dependsOn: () => [this.venv.resource],
      spec: (): AppUnitSpec => {
        const rendered = {
          unit: this.node.path,
          host: this.host.spec,
          appDir: this.appDir,
          entryPoint: this.entryPoint,
          module,
          callable,
          mount: this.mount,
          staticDirs: { ...this.staticDirs },
          daemon,
          environment,
          venvPath: this.venv.path,
          ...(secretEnvironment !== undefined && { secretEnvironment }),
        };
        // Same key order as always: the synthesized JSON (and its snapshot) does not move.
        return {
          kind: "app",
          specVersion: SPEC_VERSION,
          unit: rendered.unit,
          host: rendered.host,
          source: p.source,
          exclude,
          files: hashTree(p.source, exclude),
          appDir: rendered.appDir,
          releasesDir,
          entryPoint: rendered.entryPoint,
          module,
          callable,
          mount: rendered.mount,
          staticDirs: rendered.staticDirs,
          daemon,
          environment,
          ...(releaseCommands !== undefined && { releaseCommands }),
          ...(importCheck !== undefined && { importCheck }),
          venvPath: rendered.venvPath,
          healthCheck,
          databaseYml,
          // Present only when set, so apps without them synthesize exactly as before.
          ...(secretEnvironment !== undefined && { secretEnvironment }),
          ...(secretFiles !== undefined && { secretFiles }),
          ...(sharedPaths !== undefined && { sharedPaths }),
          // The one spec-to-host mapping: apply renders the same text and checks it against these.
          ...renderedHashes(rendered),
          keep: p.keep ?? 2,
        };
      },
    });
    this.host.addUnit("app", this.node.path, () => ownedBy({ kind: "app", unit: this.node.path, host: this.host.spec, appDir: this.appDir, releasesDir }), this.resource);
  }

  /** Serve a directory of the app directly from Apache at `urlPath` (an `Alias`). */
  addStaticDir(urlPath: string, dir: string): void {
    const problems: string[] = [];
    const url = v.check(v.urlPath, urlPath);
    if (!url.ok) problems.push(...url.problems.map((m) => m.replace(/^props/, `staticDirs key`)));
    const normalized = path.posix.normalize(dir).replace(/\/+$/, "");
    if (dir.startsWith("/") || normalized.startsWith("..") || normalized === "." || /[\0\r\n"\\]/.test(dir)) {
      problems.push(`staticDirs[${JSON.stringify(urlPath)}] ${JSON.stringify(dir)} must be a directory inside the app source, relative to it`);
    }
    if (problems.length > 0) throw errors.invalidProps(this.node.path, problems);
    this.staticDirs[urlPath] = normalized;
    this.host.claim("URL path", urlPath, this.node.path);
  }
}
