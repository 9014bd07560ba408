import { Construct } from "constructs";
import { App, DataResource, Lazy, TerraformResource, TerraformStack } from "cdktf";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import * as path from "node:path";
import type { UnitSpec } from "../lib/spec";
import { contentId, stableStringify } from "../lib/hash";
import type { LifecycleResource } from "./webshare-host";

/**
 * One lifecycle unit (a venv, an app) as a Terraform resource. The whole spec is the
 * resource's `input`, so a plan shows it key by key; `triggers_replace` holds a hash of the
 * parts that need a deploy, so only those re-run the provisioner. A local-exec provisioner
 * runs this package's CLI with the spec in its environment (never in the command text).
 */
export interface UnitResourceOptions {
  readonly kind: LifecycleResource;
  /** Produces the spec at synth time, after every construct has been added. */
  readonly spec: () => UnitSpec;
  readonly dependsOn?: () => TerraformResource[];
}

const CREATE = 'node "$WEBSHARE_CLI" provision create';
const DESTROY = 'node "$WEBSHARE_CLI" provision destroy';

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

export function createUnitResource(scope: Construct, id: string, options: UnitResourceOptions): TerraformResource {
  let cached: UnitSpec | undefined;
  const spec = () => (cached ??= options.spec());
  const environment = (unitRef: string, instanceRef: string) => ({
    WEBSHARE_CLI: cliPath(),
    WEBSHARE_UNIT: unitRef,
    WEBSHARE_INSTANCE: instanceRef,
  });
  const provisioners = (unitRef: string, instanceRef: string) => {
    const workingDir = projectDirFromStack(scope);
    return [
      { type: "local-exec" as const, command: CREATE, workingDir, environment: environment(unitRef, instanceRef) },
      { type: "local-exec" as const, when: "destroy" as const, command: DESTROY, workingDir, environment: environment(unitRef, instanceRef) },
    ];
  };
  const dependsOn = options.dependsOn?.();

  if (options.kind === "null_resource") {
    // null_resource triggers are a map of strings: the spec as JSON, plus readable keys.
    return new NullResource(scope, id, {
      triggers: Lazy.anyValue({ produce: () => nullTriggers(spec()) }) as unknown as Record<string, string>,
      lifecycle: { createBeforeDestroy: true },
      dependsOn,
      provisioners: provisioners("${self.triggers.spec}", "${self.id}"),
    });
  }
  return new DataResource(scope, id, {
    input: Lazy.anyValue({ produce: () => spec() }) as unknown as Record<string, unknown>,
    triggersReplace: Lazy.anyValue({ produce: () => ({ deploy: deployKey(spec()) }) }) as unknown as Record<string, unknown>,
    lifecycle: { createBeforeDestroy: true },
    dependsOn,
    provisioners: provisioners("${jsonencode(self.input)}", "${self.id}"),
  });
}

/** Readable string triggers for null_resource: package versions and file hashes as keys. */
export function nullTriggers(spec: UnitSpec): Record<string, string> {
  const triggers: Record<string, string> = { spec: stableStringify(spec), deploy: deployKey(spec) };
  if (spec.kind === "venv") {
    for (const [name, version] of Object.entries(spec.packages ?? {})) triggers[`package:${name}`] = version;
    spec.requirements.forEach((line, i) => (triggers[`requirement:${i + 1}`] = line));
  } else {
    for (const [file, sha] of Object.entries(spec.files)) triggers[`file:${file}`] = sha.slice(0, 16);
    triggers.apache_config = spec.apacheConfigSha256.slice(0, 16);
  }
  return triggers;
}
