import { Construct } from "constructs";
import { App, dependable, Lazy, TerraformResource, TerraformStack } from "../lib/cdk";
import { hasBrand } from "./brand";
import { NullResource } from "./null-resource";
import * as path from "node:path";
import { LocalConnectionSpec, Planned, removalSpecOf, splitConnection, UnitSpec } from "../lib/spec";
import { specDigest, TRANSPORT_ENV } from "../lib/transport";
import { contentId, stableStringify } from "../lib/hash";
import { escapeTemplate, escapeTemplates, nonNfcStrings } from "../lib/template-escape";
import { errors } from "../lib/errors";
import type { LifecycleResource } from "./webshare-host";
import { TerraformData } from "./terraform-data";

/**
 * One lifecycle unit (a venv, an app) as two Terraform resources:
 *
 * - `deploy`: its `input` is the spec (all but the deploying machine's connection settings),
 *   so a plan shows it key by key;
 *   `triggers_replace` hashes the parts that need a deploy, and a create-time local-exec
 *   provisioner runs this package's CLI. Replaced on every change (create before destroy).
 * - `remove`: lives as long as the construct; its only provisioner runs at destroy and
 *   removes what the unit owns. It is separate because Terraform runs no destroy
 *   provisioner for a tainted (failed) or deposed object, so a `deploy` resource could
 *   never be trusted to clean up after a failed deploy.
 *
 * Values reach the provisioner through its environment, never the command text; the deploy
 * spec itself is read from the synthesized stack and checked against a digest (see
 * lib/transport.ts), since one environment string is limited to 128 KiB. Every
 * string of ours in the JSON (spec keys and values, triggers, paths) is escaped here, the
 * one place it is written, so the engine never evaluates user text as a template; only the
 * `${self...}` references are expressions.
 */
export interface UnitResourceOptions {
  readonly kind: LifecycleResource;
  /** Produces the spec at synth time, after every construct has been added. */
  readonly spec: () => UnitSpec;
  readonly dependsOn?: () => TerraformResource[];
}

export const CREATE = 'node "$WEBSHARE_CLI" provision create';
export const DESTROY = 'node "$WEBSHARE_CLI" provision destroy';

/** Path of this package's CLI, relative to the project directory (where cdktf runs). */
function cliPath(): string {
  return path.relative(process.cwd(), path.join(__dirname, "..", "lib", "cli", "main.js")).split(path.sep).join("/");
}

/** The project directory as seen from the stack's Terraform working directory. */
function projectDirFromStack(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const stackDir = path.resolve(App.of(scope).outdir, "stacks", stack.node.id);
  return path.relative(stackDir, process.cwd()).split(path.sep).join("/") || ".";
}

/** The part of a spec that, when changed, needs a deploy (connection details do not). */
export function deployKey(spec: UnitSpec): string {
  const { host, ...rest } = spec;
  const { connection: _connection, ...hostRest } = host;
  return contentId({ ...rest, host: hostRest });
}

/** Where the engine runs: the stack directory, whose cdk.tf.json the provisioner reads its spec from. */
const STACK_DIR = "${abspath(path.module)}";

/**
 * A local-exec provisioner. `environment` is configuration, not state: Terraform never diffs
 * it, so it carries what may differ per deploying machine (WEBSHARE_CONNECTION) and how to
 * find the spec, never the spec itself (see lib/transport.ts).
 */
export function provisioner(scope: Construct, command: string, environment: Record<string, string>, when?: "destroy") {
  return {
    type: "local-exec" as const,
    command,
    ...(when ? { when } : {}),
    workingDir: escapeTemplate(projectDirFromStack(scope)),
    environment: { WEBSHARE_CLI: escapeTemplate(cliPath()), WEBSHARE_INSTANCE: "${self.id}", ...environment },
  };
}

/** The spec, if all its text reaches the provisioner unchanged (see nonNfcStrings). */
function checkedText(spec: UnitSpec): UnitSpec {
  const problems = nonNfcStrings(spec);
  if (problems.length > 0) throw errors.invalidProps(spec.unit, problems);
  return spec;
}

/**
 * The resources behind the constructs `owner` depends on (`owner.node.addDependency(...)`, or
 * the `dependsOn` prop, which adds to it): a WsgiApp's or Venv's `deploy`, a Terraform
 * resource itself, or every Terraform resource inside any other construct. Read at synth, so
 * a dependency added after the construct still counts. Only units of one stack can be
 * ordered: the engine applies each stack on its own.
 */
export function dependencyResources(owner: Construct): TerraformResource[] {
  const out = new Set<TerraformResource>();
  const own = (c: Construct) => c === owner || c.node.scopes.includes(owner);
  for (const d of owner.node.dependencies) {
    const unit = (d as { resource?: unknown }).resource;
    const found =
      (hasBrand(d, "WsgiApp") || hasBrand(d, "Venv")) && TerraformResource.isTerraformResource(unit)
        ? [unit]
        : TerraformResource.isTerraformResource(d)
          ? [d]
          : d.node.findAll().filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c));
    for (const r of found) {
      if (own(r)) continue;
      if (TerraformStack.of(r) !== TerraformStack.of(owner)) {
        throw errors.invalidProps(owner.node.path, [`dependsOn ${d.node.path} is in stack ${TerraformStack.of(r).node.id}, not in ${TerraformStack.of(owner).node.id}: only units of one stack can be ordered (deploy the other stack first)`]);
      }
      out.add(r);
    }
  }
  return [...out];
}

/**
 * `depends_on` of a unit's `deploy`: the fixed ones, then what the owner depends on, resolved
 * at synth (cdktf itself drops construct dependencies of resources).
 */
function lazyDependsOn(owner: Construct, fixed: readonly TerraformResource[]): string[] {
  return Lazy.listValue({ produce: () => [...new Set([...fixed, ...dependencyResources(owner)])].map((r) => dependable(r)) });
}

/** Creates the `deploy` and `remove` resources of a unit; returns the `deploy` one. */
export function createUnitResource(scope: Construct, options: UnitResourceOptions): TerraformResource {
  let cached: UnitSpec | undefined;
  const spec = () => (cached ??= checkedText(options.spec()));
  // Literal data, escaped as it is produced: cdktf then sees no token markers in it either.
  const lazy = <T>(produce: () => T) => Lazy.anyValue({ produce: () => escapeTemplates(produce()) }) as unknown as T;

  // The spec split into what the plan shows and the deploying machine's connection settings.
  let split: { planned: Planned<UnitSpec>; local: LocalConnectionSpec } | undefined;
  const parts = () => (split ??= splitConnection(spec()));
  const planned = () => parts().planned;
  const removal = () => splitConnection(removalSpecOf(spec())).planned;
  const text = (produce: () => string) => Lazy.stringValue({ produce: () => escapeTemplate(produce()) });
  const connection = text(() => stableStringify(parts().local));
  const deployEnvironment = {
    [TRANSPORT_ENV.unit]: text(() => spec().unit),
    [TRANSPORT_ENV.stackDir]: STACK_DIR,
    [TRANSPORT_ENV.digest]: text(() => specDigest(planned())),
    [TRANSPORT_ENV.connection]: connection,
  };

  if (options.kind === "null_resource") {
    // null_resource triggers are a map of strings: the spec as JSON, plus readable keys.
    const remove = new NullResource(scope, "remove", {
      triggers: lazy(() => ({ spec: stableStringify(removal()) })),
      provisioners: [provisioner(scope, DESTROY, { [TRANSPORT_ENV.spec]: "${self.triggers.spec}", [TRANSPORT_ENV.connection]: connection }, "destroy")],
    });
    const deploy = new NullResource(scope, "deploy", {
      triggers: lazy(() => nullTriggers(planned(), deployKey(spec()))),
      lifecycle: { createBeforeDestroy: true },
      provisioners: [provisioner(scope, CREATE, deployEnvironment)],
    });
    deploy.dependsOn = lazyDependsOn(scope, [...(options.dependsOn?.() ?? []), remove]);
    return deploy;
  }
  const remove = new TerraformData(scope, "remove", {
    input: lazy(() => removal() as unknown as Record<string, unknown>),
    provisioners: [provisioner(scope, DESTROY, { [TRANSPORT_ENV.spec]: "${jsonencode(self.input)}", [TRANSPORT_ENV.connection]: connection }, "destroy")],
  });
  const deploy = new TerraformData(scope, "deploy", {
    input: lazy(() => planned() as unknown as Record<string, unknown>),
    triggersReplace: lazy(() => ({ deploy: deployKey(spec()) })),
    lifecycle: { createBeforeDestroy: true },
    provisioners: [provisioner(scope, CREATE, deployEnvironment)],
  });
  deploy.dependsOn = lazyDependsOn(scope, [...(options.dependsOn?.() ?? []), remove]);
  return deploy;
}

/** Readable string triggers for null_resource: package versions and file hashes as keys. */
export function nullTriggers(spec: Planned<UnitSpec>, deploy: string): Record<string, string> {
  const triggers: Record<string, string> = { spec: stableStringify(spec), deploy };
  if (spec.kind === "venv") {
    for (const [name, version] of Object.entries(spec.packages ?? {})) triggers[`package:${name}`] = version;
    spec.requirements.forEach((line, i) => (triggers[`requirement:${i + 1}`] = line));
  } else {
    for (const [file, sha] of Object.entries(spec.files)) triggers[`file:${file}`] = sha.slice(0, 16);
    triggers.apache_config = spec.apacheConfigSha256.slice(0, 16);
  }
  return triggers;
}
