// The package root: the public construct API. Importing it has no side effects.
export * from "./constructs";
