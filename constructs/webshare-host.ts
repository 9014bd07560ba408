import { Construct } from "constructs";
import type { TerraformResource } from "cdktf";
import { TerraformStack } from "../lib/cdk";
import { NullProvider } from "./null-resource";
import { z } from "zod";
import * as path from "node:path";
import type { ApacheSpec, HostSpec } from "../lib/spec";
import * as v from "../lib/props-validation";
import { errors } from "../lib/errors";
import { homePathChecker, toHomeRelative } from "../lib/paths";
import { HOST_KEY_INSECURE_ACCEPT_ANY_VALUE } from "../lib/ssh/insecure";
import { targetOf } from "../lib/ssh/resolve";
import { urlCredentialProblems } from "../lib/redact";
import { hostOverlapProblems, PathClaim, STATE_DIR } from "../lib/remote-paths";
import type { OwnedPaths } from "../lib/inventory-spec";
import { HostInventory } from "./host-inventory";
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

/**
 * A jump host (bastion) the SSH connection goes through, as `ssh -J` does. Its host key is
 * pinned here or by the host's `knownHostsFile`; nothing is accepted unpinned.
 */
export interface JumpHost {
  /** Host name or address; with `sshConfigFile`, also an alias of that config. */
  readonly host: string;
  /** SSH port. @default 22, or the ssh config's Port */
  readonly port?: number;
  /** SSH user on the jump host. @default - the ssh config's User, else the host's `user` */
  readonly user?: string;
  /** Pinned host key fingerprint(s) of the jump host (`SHA256:...`), or HOST_KEY_INSECURE_ACCEPT_ANY. @default - its entry in `knownHostsFile` */
  readonly hostKey?: string | string[];
  /** Local path of the private key for the jump host (read at apply time). @default - the ssh config's IdentityFile, else the host's key */
  readonly privateKeyPath?: string;
  /** NAME of the environment variable that holds that key's passphrase. @default - the host's passphraseEnv when the host's key is used */
  readonly passphraseEnv?: string;
}

/** Which Terraform resource carries each lifecycle unit. */
export type LifecycleResource = "terraform_data" | "null_resource";

export interface WebshareHostProps {
  /** SSH host name or IP address; with `sshConfigFile`, a Host alias of that config. */
  readonly host: string;
  /** SSH port; wins over the ssh config's Port. @default 22, or the ssh config's Port */
  readonly port?: number;
  /** SSH user (the webshare account); wins over the ssh config's User. Required unless `sshConfigFile` is given (then `home` is required). @default - the ssh config's User, else the local user name */
  readonly user?: string;
  /** Local path of the SSH private key (read at apply time, never synthesized). @default - use the ssh-agent */
  readonly privateKeyPath?: string;
  /** NAME of the environment variable that holds the key's passphrase. @default - key has no passphrase */
  readonly passphraseEnv?: string;
  /** Use the ssh-agent at $SSH_AUTH_SOCK. @default - true when no privateKeyPath is given */
  readonly useAgent?: boolean;
  /**
   * Pinned host key fingerprint(s) (`SHA256:...` as `ssh-keygen -lf` prints it; several
   * during a key rotation), or HOST_KEY_INSECURE_ACCEPT_ANY. Required unless
   * `knownHostsFile` is given; both together pin the union.
   * @default - the target's entries in `knownHostsFile`
   */
  readonly hostKey?: string | string[];
  /** Local OpenSSH known_hosts file (hashed entries too) whose keys for the host and the jump hosts are pinned; read at apply time. @default - none */
  readonly knownHostsFile?: string;
  /** Local OpenSSH client config (e.g. "~/.ssh/config") read at apply time for `host`: HostName, User, Port, IdentityFile, ProxyJump. Props given here win. @default - none is read */
  readonly sshConfigFile?: string;
  /** Jump hosts, first to last, each with its own pinned key; replaces the ssh config's ProxyJump. @default - the ssh config's ProxyJump, else a direct connection */
  readonly jumpHosts?: JumpHost[];
  /** Seconds to wait for the SSH handshake. @default 10 */
  readonly connectTimeoutSeconds?: number;
  /** Connect attempts when a connection is refused, reset or gets no handshake (never for a wrong host key or failed login). @default 4 */
  readonly connectAttempts?: number;
  /** No new connect attempt starts later than this many seconds after the first (delays 1, 2, 4, 8 s). @default 15 */
  readonly connectRetrySeconds?: number;
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

/** One pin, several (a rotation), or the opt-out alone. */
const hostKeyPins = z.union([
  z.literal(HOST_KEY_INSECURE_ACCEPT_ANY),
  v.fingerprint,
  z.array(v.fingerprint).min(1, { message: "must list at least one fingerprint" }),
]);

const DEFAULT_MOD_WSGI = ["/usr/lib/apache2/modules/mod_wsgi.so", "/usr/lib64/httpd/modules/mod_wsgi.so", "/usr/lib/httpd/modules/mod_wsgi.so"];

const propsSchema = z
  .object({
    host: v.hostName,
    port: v.port.optional(),
    user: v.userName.optional(),
    privateKeyPath: v.localPath.optional(),
    passphraseEnv: v.envVarName.optional(),
    useAgent: z.boolean().optional(),
    hostKey: hostKeyPins.optional(),
    knownHostsFile: v.localPath.optional(),
    sshConfigFile: v.localPath.optional(),
    jumpHosts: z
      .array(
        z
          .object({
            host: v.hostName,
            port: v.port.optional(),
            user: v.userName.optional(),
            hostKey: hostKeyPins.optional(),
            privateKeyPath: v.localPath.optional(),
            passphraseEnv: v.envVarName.optional(),
          })
          .strict(),
      )
      .max(8, { message: "at most 8 jump hosts" })
      .optional(),
    connectTimeoutSeconds: z.number().int().min(1, { message: "must be 1-300" }).max(300, { message: "must be 1-300" }).optional(),
    connectAttempts: z.number().int().min(1, { message: "must be 1-10" }).max(10, { message: "must be 1-10" }).optional(),
    connectRetrySeconds: z.number().min(0, { message: "must be 0-600" }).max(600, { message: "must be 0-600" }).optional(),
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
  private readonly inventory: HostInventory;
  private readonly pathClaims: PathClaim[] = [];

  constructor(scope: Construct, id: string, props: WebshareHostProps) {
    super(scope, id);
    brand(this, "WebshareHost");
    const parsed = v.check(propsSchema, props);
    if (!parsed.ok) throw errors.invalidProps(this.node.path, parsed.problems);
    const p = parsed.value;
    const connectionProblems: string[] = [];
    if (p.user === undefined && p.sshConfigFile === undefined) connectionProblems.push("user is required (or give sshConfigFile, whose User is used)");
    if (p.user === undefined && p.home === undefined) connectionProblems.push("home is required when user comes from the ssh config (it is needed at synth)");
    if (p.hostKey === undefined && p.knownHostsFile === undefined) {
      connectionProblems.push("hostKey is required: a pinned fingerprint (or several), or a knownHostsFile that lists the host (HOST_KEY_INSECURE_ACCEPT_ANY is the explicit opt-out)");
    }
    (p.jumpHosts ?? []).forEach((j, i) => {
      if (j.hostKey === undefined && p.knownHostsFile === undefined) connectionProblems.push(`jumpHosts[${i}] (${j.host}) needs a hostKey, or a knownHostsFile that lists it: jump hosts are pinned too`);
    });
    if (connectionProblems.length > 0) throw errors.invalidProps(this.node.path, connectionProblems);
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
        // With an ssh config, what props leave out is resolved from it at apply time.
        port: p.port ?? (p.sshConfigFile === undefined ? 22 : undefined),
        user: p.user,
        privateKeyPath: p.privateKeyPath,
        passphraseEnv: p.passphraseEnv,
        useAgent: p.useAgent ?? p.privateKeyPath === undefined,
        hostKey: p.hostKey,
        knownHostsFile: p.knownHostsFile,
        sshConfigFile: p.sshConfigFile,
        jumpHosts: p.jumpHosts,
        connectTimeoutSeconds: p.connectTimeoutSeconds ?? 10,
        connectAttempts: p.connectAttempts,
        connectRetrySeconds: p.connectRetrySeconds,
      },
      home,
      python: p.python ?? "/usr/bin/python3",
      modWsgiModules: p.checkModWsgiPython === false ? [] : p.modWsgiModule ? [p.modWsgiModule] : DEFAULT_MOD_WSGI,
      apache: p.apache.spec,
      stateDir: STATE_DIR,
      errorLog: p.errorLog,
    };
    if (confDirInHome !== undefined) this.claimPaths(this.node.path, [{ field: "apache.confDir", path: confDirInHome }]);
    if (this.lifecycleResource === "null_resource") this.ensureNullProvider();
    this.inventory = new HostInventory(this, "inventory", this.lifecycleResource, () => this.spec);
  }

  /** `user@host:port` as given (an ssh config alias is resolved only at apply time), for messages. */
  get target(): string {
    return targetOf(this.spec.connection);
  }

  /**
   * A unit (venv, app) of this host: the host's inventory lists it, and removes what the host
   * recorded for units it no longer lists once every unit deployed.
   * @internal
   */
  addUnit(kind: "venv" | "app", unit: string, owns: () => OwnedPaths, deploy: TerraformResource): void {
    this.inventory.add(() => ({ unit, kind, owns: owns() }), deploy);
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
   * Record the remote paths a construct owns; a path equal to, inside or around one another
   * construct claimed fails right away, naming both (like claim(): thrown, not a deferred
   * cdktf validation whose text advises `skipValidation`). A construct's own paths are
   * checked by the construct itself.
   * @internal
   */
  claimPaths(by: string, paths: readonly Omit<PathClaim, "by">[]): void {
    const claims = [...this.pathClaims, ...paths.map((c) => ({ ...c, by }))];
    // The earlier claims never overlap (each claim was checked when made), so every problem names a new one.
    const problems = hostOverlapProblems(claims, this.node.path);
    if (problems.length > 0) throw errors.pathOverlap(by, problems);
    this.pathClaims.push(...claims.slice(this.pathClaims.length));
  }

  private ensureNullProvider(): void {
    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild("webshare-null-provider")) new NullProvider(stack, "webshare-null-provider");
  }
}
