/**
 * Brands, as cdktf marks its classes (`TerraformResource.isTerraformResource`): each instance
 * carries a `Symbol.for("webshare-cdktf/<Class>")` property, and the static `isX` checks test
 * for it instead of using `instanceof`. `Symbol.for` keys are global, so two copies of this
 * package in one node_modules tree (e.g. one a dependency of another library) still recognise
 * each other's hosts, venvs and apps, where `instanceof` would reject them.
 */
export function brand(target: object, className: string): void {
  Object.defineProperty(target, Symbol.for(`webshare-cdktf/${className}`), { value: true });
}

export function hasBrand(x: unknown, className: string): boolean {
  return typeof x === "object" && x !== null && Symbol.for(`webshare-cdktf/${className}`) in x;
}
