import type * as Cdk from "cdktf";

/**
 * The CDK for Terraform library of the consumer's project: HashiCorp's `cdktf` (deprecated
 * on 2025-12-10) or its community fork CDK Terrain, `cdktn`, whose API is the same (a
 * superset: 0.24 exports every name cdktf 0.21 does) and whose constructs mark themselves
 * with the same `Symbol.for("cdktf/...")` keys. Both are optional peer dependencies, so a
 * project has one copy: the constructs load whichever it installed. When both are
 * installed, the one the app has already loaded wins (the app imports it before
 * webshare-cdktf), else cdktf; WEBSHARE_CDK=cdktn|cdktf decides explicitly.
 *
 * Types come from cdktf (this repository's dev dependency); a cdktn project compiles against
 * them with skipLibCheck, which `cdktn init` sets.
 */
export type CdkLibrary = "cdktf" | "cdktn";
const LIBRARIES: readonly CdkLibrary[] = ["cdktf", "cdktn"];

/** Is `name` already loaded in this process (the app imported it)? */
function loaded(name: CdkLibrary): boolean {
  try {
    return require.cache[require.resolve(name)] !== undefined;
  } catch {
    return false;
  }
}

/** Which library to load, in order of preference (pure apart from the two probes passed in). */
export function preference(env: NodeJS.ProcessEnv, isLoaded: (name: CdkLibrary) => boolean): CdkLibrary[] {
  const forced = env.WEBSHARE_CDK;
  if (forced !== undefined && forced !== "") {
    if (!LIBRARIES.includes(forced as CdkLibrary)) throw new Error(`WEBSHARE_CDK must be "cdktf" or "cdktn", not ${JSON.stringify(forced)}`);
    return [forced as CdkLibrary];
  }
  return [...LIBRARIES].sort((a, b) => Number(isLoaded(b)) - Number(isLoaded(a)));
}

function load(): { library: CdkLibrary; module: typeof Cdk } {
  const tried: string[] = [];
  for (const name of preference(process.env, loaded)) {
    try {
      return { library: name, module: require(name) as typeof Cdk };
    } catch (e) {
      const error = e as NodeJS.ErrnoException;
      // Only "not installed" moves on; an error inside the library is real.
      if (error.code !== "MODULE_NOT_FOUND" || !error.message.includes(`'${name}'`)) throw e;
      tried.push(name);
    }
  }
  throw new Error(`webshare-cdktf needs CDK Terrain or CDK for Terraform, and ${tried.join(" nor ")} is installed: npm install cdktn constructs (or cdktf constructs)`);
}

const cdk = load();

/** The library the constructs use in this process. */
export const cdkLibrary: CdkLibrary = cdk.library;

export const App = cdk.module.App;
export type App = Cdk.App;
export const Lazy = cdk.module.Lazy;
export const TerraformStack = cdk.module.TerraformStack;
export type TerraformStack = Cdk.TerraformStack;
export const TerraformResource = cdk.module.TerraformResource;
export type TerraformResource = Cdk.TerraformResource;
export const TerraformProvider = cdk.module.TerraformProvider;
export type TerraformProvider = Cdk.TerraformProvider;
export type TerraformMetaArguments = Cdk.TerraformMetaArguments;
export type TerraformResourceLifecycle = Cdk.TerraformResourceLifecycle;
export type ITerraformDependable = Cdk.ITerraformDependable;
export const anyToTerraform = cdk.module.anyToTerraform;
export const anyToHclTerraform = cdk.module.anyToHclTerraform;
export const stringToTerraform = cdk.module.stringToTerraform;
export const stringToHclTerraform = cdk.module.stringToHclTerraform;
export const hashMapper = cdk.module.hashMapper;
export const hashMapperHcl = cdk.module.hashMapperHcl;
export const dependable = cdk.module.dependable;
