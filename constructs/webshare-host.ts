import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { z } from "zod";
import * as path from "node:path";
import type { ApacheSpec, HostSpec } from "../lib/spec";
import * as v from "../lib/props-validation";
import { errors } from "../lib/errors";
import { homePathChecker, toHomeRelative } from "../lib/paths";
import { HOST_KEY_INSECURE_ACCEPT_ANY_VALUE } from "../lib/ssh/insecure";
import { urlCredentialProblems } from "../lib/redact";
import { hostOverlapProblems, PathClaim, STATE_DIR } from "../lib/remote-paths";
import { brand, hasBrand } from "./brand";

/** Pass as `hostKey` to accept whatever key the host presents. Only for first contact on a trusted network. */
export const HOST_KEY_INSECURE_ACCEPT_ANY = HOST_KEY_INSECURE_ACCEPT_ANY_VALUE;

/** Options of a self-managed Apache: where app configs go and how to test and reload it. */
export interface SelfManagedApacheOptions {
  /** Directory (on the host) that Apache includes `*.conf` from; must be writable by the SSH user. */
  readonly confDir: string;
  /** Config test as an argv, e.g. `["apache2ctl", "configtest"]`. */
  readonly testCommand: readonly string[];
  /** Graceful reload as an argv, e.g. `["sudo", "apache2ctl", "graceful"]`. */
  readonly reloadCommand: readonly string[];
}

/** Who owns the Apache configuration; made by its static factories. */
export class ApacheMode {
  /** True for an ApacheMode from any copy of this package (a brand check, not `instanceof`). */
  static isApacheMode(x: unknown): x is ApacheMode {
    return hasBrand(x, "ApacheMode");
  }

  /** The hoster owns Apache: the rendered snippet is written to the host for them and shown. */
  static managed(): ApacheMode {
    return new ApacheMode({ mode: "managed" });
  }

  /** You own Apache: each app's config is staged, config-tested, installed and gracefully reloaded. */
  static selfManaged(options: SelfManagedApacheOptions): ApacheMode {
    return new ApacheMode({
      mode: "self",
      confDir: options.confDir,
      testCommand: [...options.testCommand],
      reloadCommand: [...options.reloadCommand],
    });
  }

  /** `managed` (the hoster owns Apache) or `self-managed` (you do). */
  readonly mode: "managed" | "self-managed";
  /** @internal what the host spec carries */
  readonly spec: ApacheSpec;

  private constructor(spec: ApacheSpec) {
    this.spec = spec;
    this.mode = spec.mode === "self" ? "self-managed" : "managed";
    brand(this, "ApacheMode");
  }
}

/** The hoster's home layout; every path is relative to the home directory. */
export interface HostLayout {
  /** App directory. @default "public" */
  readonly publicDir?: string;
  /** WSGI entry point. @default "public/wwwshare.wsgi" */
  readonly entryPoint?: string;
  /** Private directory (not served). @default "private" */
  readonly privateDir?: string;
  /** The venv mod_wsgi's python-home points at. @default "private/venv" */
  readonly venv?: string;
  /** Where the venv's requirements are written. @default "private/requirements.txt" */
  readonly requirements?: string;
  /** Where `pip freeze --local` of the live venv is recorded. @default "private/freeze.txt" */
  readonly freeze?: string;
}

/** Which Terraform resource carries each lifecycle unit. */
export type LifecycleResource = "terraform_data" | "null_resource";

export interface WebshareHostProps {
  /** SSH host name or IP address. */
  readonly host: string;
  /** SSH port. @default 22 */
  readonly port?: number;
  /** SSH user (the webshare account). */
  readonly user: string;
  /** Local path of the SSH private key (read at apply time, never synthesized). @default - use the ssh-agent */
  readonly privateKeyPath?: string;
  /** NAME of the environment variable that holds the key's passphrase. @default - key has no passphrase */
  readonly passphraseEnv?: string;
  /** Use the ssh-agent at $SSH_AUTH_SOCK. @default - true when no privateKeyPath is given */
  readonly useAgent?: boolean;
  /** Pinned host key fingerprint (`SHA256:...` as `ssh-keygen -lf` prints it), or HOST_KEY_INSECURE_ACCEPT_ANY. */
  readonly hostKey: string;
  /** Seconds to wait for the SSH handshake. @default 10 */
  readonly connectTimeoutSeconds?: number;
  /** Home directory on the host. @default "/home/<user>" */
  readonly home?: string;
  /** The hoster's layout. @default - the hoster's documented layout (public/, private/venv, ...) */
  readonly layout?: HostLayout;
  /** Interpreter that builds venvs; must be the Python mod_wsgi runs. @default "/usr/bin/python3" */
  readonly python?: string;
  /** Path of mod_wsgi.so on the host, read to check the Python it runs. @default - Debian's and RHEL's standard paths */
  readonly modWsgiModule?: string;
  /** Check that `python` matches mod_wsgi's Python before building. Only turn off when the module cannot be read. @default true */
  readonly checkModWsgiPython?: boolean;
  /** Who owns Apache. */
  readonly apache: ApacheMode;
  /** Apache error log on the host, readable by the SSH user; shown when a health check fails. @default - none */
  readonly errorLog?: string;
  /** Resource type for lifecycle units; null_resource needs the null provider. @default "terraform_data" */
  readonly lifecycleResource?: LifecycleResource;
}

const DEFAULT_MOD_WSGI = ["/usr/lib/apache2/modules/mod_wsgi.so", "/usr/lib64/httpd/modules/mod_wsgi.so", "/usr/lib/httpd/modules/mod_wsgi.so"];

const propsSchema = z
  .object({
    host: v.hostName,
    port: v.port.optional(),
    user: v.userName,
    privateKeyPath: v.localPath.optional(),
    passphraseEnv: v.envVarName.optional(),
    useAgent: z.boolean().optional(),
    hostKey: z.union([z.literal(HOST_KEY_INSECURE_ACCEPT_ANY), v.fingerprint]),
    connectTimeoutSeconds: z.number().int().min(1, { message: "must be 1-300" }).max(300, { message: "must be 1-300" }).optional(),
    home: v.absolutePath.optional(),
    layout: z
      .object({
        publicDir: v.remotePath.optional(),
        entryPoint: v.remotePath.optional(),
        privateDir: v.remotePath.optional(),
        venv: v.remotePath.optional(),
        requirements: v.remotePath.optional(),
        freeze: v.remotePath.optional(),
      })
      .strict()
      .optional(),
    python: v.absolutePath.optional(),
    modWsgiModule: v.absolutePath.optional(),
    checkModWsgiPython: z.boolean().optional(),
    apache: z.custom<ApacheMode>(ApacheMode.isApacheMode, { message: "must be ApacheMode.managed() or ApacheMode.selfManaged({...})" }),
    lifecycleResource: z.enum(["terraform_data", "null_resource"]).optional(),
    errorLog: v.absolutePath.optional(),
  })
  .strict();

/** The host layout with every default filled in (`WebshareHost.layout`); all paths relative to the home. */
export type ResolvedLayout = Required<HostLayout>;

/** A webshare host reached over SSH: where and how to deploy, shared by its apps and venvs. */
export class WebshareHost extends Construct {
  /** True for a WebshareHost from any copy of this package (a brand check, not `instanceof`). */
  static isWebshareHost(x: unknown): x is WebshareHost {
    return hasBrand(x, "WebshareHost");
  }

  /** @internal Non-secret settings every unit on this host carries. */
  readonly spec: HostSpec;
  /** The host's layout with every default filled in, relative to the home. */
  readonly layout: ResolvedLayout;
  /** Resource type of the lifecycle units on this host. */
  readonly lifecycleResource: LifecycleResource;
  private readonly claims: { kind: string; what: string; by: string }[] = [];
  private readonly pathClaims: PathClaim[] = [];

  constructor(scope: Construct, id: string, props: WebshareHostProps) {
    super(scope, id);
    brand(this, "WebshareHost");
    const parsed = v.check(propsSchema, props);
    if (!parsed.ok) throw errors.invalidProps(this.node.path, parsed.problems);
    const p = parsed.value;
    const home = path.posix.normalize(p.home ?? `/home/${p.user}`).replace(/\/+$/, "");

    const layoutIn = p.layout ?? {};
    const problems: string[] = urlCredentialProblems({ ...p, apache: p.apache.spec });
    const checkPath = homePathChecker(home, problems);
    const inHome = (field: string, value: string): string => checkPath(`layout.${field}`, value);
    const publicDir = inHome("publicDir", layoutIn.publicDir ?? "public");
    const privateDir = inHome("privateDir", layoutIn.privateDir ?? "private");
    this.layout = {
      publicDir,
      privateDir,
      entryPoint: inHome("entryPoint", layoutIn.entryPoint ?? `${publicDir}/wwwshare.wsgi`),
      venv: inHome("venv", layoutIn.venv ?? `${privateDir}/venv`),
      requirements: inHome("requirements", layoutIn.requirements ?? `${privateDir}/requirements.txt`),
      freeze: inHome("freeze", layoutIn.freeze ?? `${privateDir}/freeze.txt`),
    };
    let confDirInHome: string | undefined;
    if (p.apache.spec.mode === "self") {
      if (!p.apache.spec.confDir.startsWith("/")) problems.push(`apache.confDir ${JSON.stringify(p.apache.spec.confDir)} must be an absolute path`);
      // Outside the home it is the hoster's business; inside, it is one more path to keep apart.
      else if (toHomeRelative(p.apache.spec.confDir, home) !== undefined) confDirInHome = checkPath("apache.confDir", p.apache.spec.confDir);
      if (p.apache.spec.testCommand.length === 0) problems.push("apache.testCommand must not be empty");
      if (p.apache.spec.reloadCommand.length === 0) problems.push("apache.reloadCommand must not be empty");
    }
    if (problems.length > 0) throw errors.invalidProps(this.node.path, problems);

    this.lifecycleResource = p.lifecycleResource ?? "terraform_data";
    this.spec = {
      name: this.node.path,
      connection: {
        host: p.host,
        port: p.port ?? 22,
        user: p.user,
        privateKeyPath: p.privateKeyPath,
        passphraseEnv: p.passphraseEnv,
        useAgent: p.useAgent ?? p.privateKeyPath === undefined,
        hostKey: p.hostKey,
        connectTimeoutSeconds: p.connectTimeoutSeconds ?? 10,
      },
      home,
      python: p.python ?? "/usr/bin/python3",
      modWsgiModules: p.checkModWsgiPython === false ? [] : p.modWsgiModule ? [p.modWsgiModule] : DEFAULT_MOD_WSGI,
      apache: p.apache.spec,
      stateDir: STATE_DIR,
      errorLog: p.errorLog,
    };
    if (confDirInHome !== undefined) this.claimPaths(this.node.path, [{ field: "apache.confDir", path: confDirInHome }]);
    this.node.addValidation({ validate: () => this.overlaps() });
    if (this.lifecycleResource === "null_resource") this.ensureNullProvider();
  }

  /** `user@host:port`, for messages. */
  get target(): string {
    const c = this.spec.connection;
    return `${c.user}@${c.host}:${c.port}`;
  }

  /**
   * Record that a construct uses a host-wide resource (a mount, a directory, a venv path);
   * a second construct claiming the same one fails right away, naming both. (Not a cdktf
   * validation: cdktf ends those with advice to pass `skipValidation: true`, and skipping
   * this check lets two units overwrite each other's files on the host.)
   * @internal
   */
  claim(kind: string, what: string, by: string): void {
    const first = this.claims.find((c) => c.kind === kind && c.what === what && c.by !== by);
    if (first !== undefined) throw errors.claimConflict(by, first.by, kind, what, this.node.path);
    this.claims.push({ kind, what, by });
  }

  /**
   * Record the remote paths a construct owns; paths of different constructs that are equal or
   * contain one another fail validation at synth (a construct's own are checked by it).
   * @internal
   */
  claimPaths(by: string, paths: readonly Omit<PathClaim, "by">[]): void {
    this.pathClaims.push(...paths.map((c) => ({ ...c, by })));
  }

  /**
   * Paths that contain one another are known only once every construct exists, so this one
   * check is a deferred validation (equal values of one kind fail at once, in claim()).
   */
  private overlaps(): string[] {
    return hostOverlapProblems(this.pathClaims, this.node.path);
  }

  private ensureNullProvider(): void {
    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild("webshare-null-provider")) new NullProvider(stack, "webshare-null-provider", {});
  }
}
