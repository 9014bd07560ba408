import { Construct } from "constructs";
// The type only (erased at run time): the package works under cdktn too (lib/cdk.ts).
import type { TerraformResource } from "cdktf";
import { z } from "zod";
import * as fs from "node:fs";
import * as path from "node:path";
import type { HealthCheckSpec, VenvUnitSpec } from "../lib/spec";
import { SPEC_VERSION } from "../lib/spec";
import * as v from "../lib/props-validation";
import { errors } from "../lib/errors";
import { homePathChecker, slug } from "../lib/paths";
import { installIdentity } from "../lib/install-identity";
import { hashFlatDir } from "../lib/local-files";
import { packagesFromEntries, parseRequirements, requirementLines } from "../lib/requirements";
import { requirementCredentialProblems, urlCredentialProblems } from "../lib/redact";
import { unitOverlapProblems } from "../lib/remote-paths";
import { WebshareHost } from "./webshare-host";
import { brand, hasBrand } from "./brand";
import { createUnitResource } from "./unit-resource";
import { ownedBy } from "../lib/inventory-spec";

export interface VenvProps {
  /** The host the venv lives on. */
  readonly host: WebshareHost;
  /** Local requirements file (loose), uploaded to the host's requirements path. @default - none; then `lock` is required */
  readonly requirements?: string;
  /** Local lock file (a pinned `pip freeze`); when given it is what gets installed, and a plan shows each package's version. @default - install from requirements */
  readonly lock?: string;
  /** Venv path on the host (what mod_wsgi's python-home names). @default - the host layout's venv ("private/venv") */
  readonly path?: string;
  /** Where the requirements are written on the host. @default - the host layout's requirements ("private/requirements.txt") */
  readonly requirementsPath?: string;
  /** Where `pip freeze --local` is recorded on the host. @default - the host layout's freeze ("private/freeze.txt") */
  readonly freezePath?: string;
  /**
   * Local file each deploy also writes the installed freeze to. The record is the host's
   * `freezePath` (`webshare freeze` fetches it); set this only when a local copy is wanted.
   * Two Venvs of one app may not name the same file (refused at synth).
   * @default - none: only the host's freeze.txt is written
   */
  readonly localFreezeFile?: string;
  /** pip `--index-url`; no credentials (they would be stored in state). @default - pip's default */
  readonly indexUrl?: string;
  /** pip `--extra-index-url`s. @default [] */
  readonly extraIndexUrls?: string[];
  /** Local directory of wheels, uploaded and used with `--find-links`. @default - none */
  readonly wheelhouse?: string;
  /** Install only from the wheelhouse (`--no-index`). @default false */
  readonly noIndex?: boolean;
  /** Upgrade pip, setuptools and wheel in the new venv first (the hoster's manual procedure does). @default false */
  readonly upgradePip?: boolean;
  /** Allow option lines (`--index-url`, `-e`, `--trusted-host`...) inside requirement files. @default false */
  readonly allowRequirementOptions?: boolean;
  /** Previous venvs kept for rollback. @default 2 */
  readonly keep?: number;
  /** Python version ("3.X") the app needs; the deploy refuses a host whose interpreter differs. @default - any */
  readonly pythonVersion?: string;
}

const propsSchema = z
  .object({
    host: z.custom<WebshareHost>(WebshareHost.isWebshareHost, { message: "must be a WebshareHost" }),
    requirements: v.localPath.optional(),
    lock: v.localPath.optional(),
    path: v.remotePath.optional(),
    requirementsPath: v.remotePath.optional(),
    freezePath: v.remotePath.optional(),
    localFreezeFile: v.localPath.optional(),
    indexUrl: v.indexUrl.optional(),
    extraIndexUrls: z.array(v.indexUrl).optional(),
    wheelhouse: v.localPath.optional(),
    noIndex: z.boolean().optional(),
    upgradePip: z.boolean().optional(),
    allowRequirementOptions: z.boolean().optional(),
    keep: z.number().int().min(1, { message: "must be 1-20" }).max(20, { message: "must be 1-20" }).optional(),
    pythonVersion: z.string().regex(/^3\.\d+$/, { message: 'must be a Python version "3.X"' }).optional(),
  })
  .strict()
  .refine((p) => p.requirements !== undefined || p.lock !== undefined, {
    message: "needs a requirements file, a lock file, or both",
    path: ["requirements"],
  });

interface LocalRequirements {
  readonly file: string;
  readonly text: string;
  readonly lines: string[];
}

/** Local freeze files claimed per app (construct tree root): absolute path -> the Venv that writes it. */
const localFreezeClaims = new WeakMap<object, Map<string, string>>();

/**
 * One local freeze file per Venv: two Venvs (on one host or several) writing the same file
 * would each overwrite the other's record on every deploy, last writer wins.
 */
function claimLocalFreezeFile(venv: Construct, file: string): void {
  const root = venv.node.root;
  let claims = localFreezeClaims.get(root);
  if (claims === undefined) localFreezeClaims.set(root, (claims = new Map()));
  const key = path.resolve(file);
  const other = claims.get(key);
  if (other !== undefined) {
    throw errors.invalidProps(venv.node.path, [
      `localFreezeFile ${JSON.stringify(file)} is already written by ${other}: two Venvs would overwrite each other's freeze on every deploy; give each its own file, or drop localFreezeFile and use \`webshare freeze\` to fetch each host's freeze.txt`,
    ]);
  }
  claims.set(key, venv.node.path);
}

/** A Python virtual environment on a webshare host, built from requirements (or a lock). */
export class Venv extends Construct {
  /** True for a Venv from any copy of this package (a brand check, not `instanceof`). */
  static isVenv(x: unknown): x is Venv {
    return hasBrand(x, "Venv");
  }

  readonly host: WebshareHost;
  /** Home-relative venv path on the host. */
  readonly path: string;
  /** The Terraform resource that deploys this venv (replaced whenever it must be rebuilt). */
  readonly resource: TerraformResource;
  /** Local files this venv reads or writes (apps exclude them from their uploads). */
  readonly localFiles: readonly string[];
  private readonly apps: { entryPoint: string; healthCheck?: HealthCheckSpec; daemonUser?: string }[] = [];

  constructor(scope: Construct, id: string, props: VenvProps) {
    super(scope, id);
    brand(this, "Venv");
    const parsed = v.check(propsSchema, props);
    if (!parsed.ok) throw errors.invalidProps(this.node.path, parsed.problems);
    const p = parsed.value;
    this.host = p.host;
    const home = this.host.spec.home;
    const { host: _host, ...plainProps } = p;
    const problems: string[] = urlCredentialProblems(plainProps);
    const remote = homePathChecker(home, problems);
    const layout = this.host.layout;
    this.path = remote("path", p.path ?? layout.venv);
    const custom = p.path !== undefined && this.path !== layout.venv;
    const requirementsPath = remote("requirementsPath", p.requirementsPath ?? (custom ? `${path.posix.dirname(this.path)}/requirements.txt` : layout.requirements));
    const freezePath = remote("freezePath", p.freezePath ?? (custom ? `${path.posix.dirname(this.path)}/freeze.txt` : layout.freeze));
    const venvsDir = `${layout.privateDir}/venvs/${slug(this.path)}`;
    const ownPaths = [
      { field: "path", path: this.path },
      { field: "venvs directory (from path)", path: venvsDir },
      { field: "requirementsPath", path: requirementsPath },
      { field: "freezePath", path: freezePath },
    ];
    if (problems.length === 0) problems.push(...unitOverlapProblems(ownPaths.map((c) => ({ ...c, by: this.node.path }))));

    const requirements = p.requirements ? this.readRequirements("requirements", p.requirements, p.allowRequirementOptions, problems) : undefined;
    const lock = p.lock ? this.readRequirements("lock", p.lock, p.allowRequirementOptions, problems) : undefined;
    let wheelhouseFiles: Record<string, string> = {};
    if (p.wheelhouse !== undefined) {
      if (!fs.existsSync(p.wheelhouse) || !fs.statSync(p.wheelhouse).isDirectory()) {
        problems.push(`wheelhouse ${JSON.stringify(p.wheelhouse)} must be an existing local directory (paths are relative to ${process.cwd()})`);
      } else wheelhouseFiles = hashFlatDir(p.wheelhouse);
    }
    if (problems.length > 0) throw errors.invalidProps(this.node.path, problems);

    const installed = (lock ?? requirements)!;
    const localFreezeFile = p.localFreezeFile;
    if (localFreezeFile !== undefined) claimLocalFreezeFile(this, localFreezeFile);
    // Where the local freeze went by default before it became opt-in: still kept out of app
    // uploads, so a leftover copy is not shipped and upgrading plans no new release.
    const formerDefault = path.join(path.dirname(installed.file), "freeze.txt");
    this.localFiles = [p.requirements, p.lock, localFreezeFile ?? formerDefault, p.wheelhouse].filter((f): f is string => f !== undefined);
    this.host.claim("venv path", this.path, this.node.path);
    this.host.claim("requirements path", requirementsPath, this.node.path);
    this.host.claim("freeze path", freezePath, this.node.path);
    this.host.claimPaths(this.node.path, ownPaths);

    const packages = lock ? packagesFromEntries(parseRequirements(lock.text).entries) : undefined;
    this.resource = createUnitResource(this, {
      kind: this.host.lifecycleResource,
      spec: (): VenvUnitSpec => ({
        kind: "venv",
        specVersion: SPEC_VERSION,
        unit: this.node.path,
        host: this.host.spec,
        venvPath: this.path,
        venvsDir,
        requirementsPath,
        freezePath,
        requirementsFile: p.requirements,
        lockFile: p.lock,
        localFreezeFile,
        requirements: (requirements ?? lock)!.lines,
        packages,
        installSha256: installIdentity(installed.text),
        source: {
          indexUrl: p.indexUrl,
          extraIndexUrls: p.extraIndexUrls ?? [],
          noIndex: p.noIndex ?? false,
          wheelhouse: p.wheelhouse,
        },
        wheelhouseFiles,
        upgradePip: p.upgradePip ?? false,
        apps: [...this.apps].sort((a, b) => (a.entryPoint < b.entryPoint ? -1 : 1)),
        keep: p.keep ?? 2,
        pythonVersion: p.pythonVersion,
      }),
    });
    this.host.addUnit("venv", this.node.path, () => ownedBy({ kind: "venv", venvPath: this.path, venvsDir, requirementsPath, freezePath }), this.resource);
  }

  /**
   * An app runs in this venv: touch its entry point after each switch so its daemons reload,
   * then run its health check (and switch back if it fails).
   * @internal called by WsgiApp
   */
  addApp(entryPoint: string, healthCheck: HealthCheckSpec | undefined, daemonUser?: string): void {
    // daemonUser only when it is another user than the deploy user: the venv stays traversable for it.
    if (!this.apps.some((a) => a.entryPoint === entryPoint)) this.apps.push({ entryPoint, healthCheck, ...(daemonUser !== undefined ? { daemonUser } : {}) });
  }

  private readRequirements(field: string, file: string, allowOptions: boolean | undefined, problems: string[]): LocalRequirements | undefined {
    if (!fs.existsSync(file)) {
      problems.push(`${field} ${JSON.stringify(file)} does not exist (paths are relative to ${process.cwd()})`);
      return undefined;
    }
    const text = fs.readFileSync(file, "utf8");
    const parsed = parseRequirements(text);
    problems.push(...requirementCredentialProblems(text).map((problem) => `${field} ${file} ${problem}`));
    for (const error of parsed.errors) problems.push(`${field} ${file}: ${error.message}`);
    if (!allowOptions) {
      for (const entry of parsed.entries) {
        if (entry.kind === "option" || entry.kind === "editable") {
          problems.push(
            `${field} ${file} line ${entry.line}: option line ${JSON.stringify(entry.raw)} is not allowed in requirement files; use the Venv's indexUrl/extraIndexUrls/wheelhouse props, or set allowRequirementOptions: true`,
          );
        }
      }
    }
    return { file, text, lines: requirementLines(text) };
  }
}
