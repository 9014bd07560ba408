import type { AppUnitSpec } from "../../lib/spec";
import { APACHE_CONFIG_FIELDS, ENTRY_POINT_FIELDS, renderedHashes } from "../../lib/render/unit-files";
import { appSpec } from "./drift-fixtures";

/**
 * The one spec-to-host mapping: every field a renderer reads changes its hash, and no other
 * field does. The plan summary names "the settings behind the config" from the same lists,
 * so this test is what keeps that summary from going stale when a directive is added.
 */

/** Every optional field set, so each one can be changed. */
const full: AppUnitSpec = {
  ...appSpec,
  mount: "/app",
  staticDirs: { "/app/static": "static" },
  daemon: { name: "d", processes: 2, threads: 15, maximumRequests: 100, displayName: "shown", user: "www", group: "www" },
  environment: { GREETING: "hi" },
  healthCheck: { url: "http://x/health", expectStatus: 200, timeoutSeconds: 30, releaseUrl: "http://x/app/.webshare/health" },
  databaseYml: { path: "private/database.yml", file: "db.yml", digest: "d" },
};

/** Every leaf of a spec as [dotted path, changed copy of the spec]. Records also gain a key. */
function mutations(value: unknown, at: string[] = []): Array<[string, (spec: AppUnitSpec) => AppUnitSpec]> {
  const set = (spec: AppUnitSpec, next: unknown): AppUnitSpec => {
    const copy = structuredClone(spec) as unknown as Record<string, unknown>;
    let node = copy;
    for (const key of at.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[at[at.length - 1]!] = next;
    return copy as unknown as AppUnitSpec;
  };
  const name = at.join(".");
  if (Array.isArray(value)) return [[name, (s) => set(s, [...value, "extra"])]];
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).flatMap(([k, v]) => mutations(v, [...at, k]));
    // A record keyed by user text (files, environment, staticDirs) also changes by a new key.
    return at.length > 0 && !["host", "connection", "daemon", "healthCheck", "databaseYml", "apache"].includes(at[at.length - 1]!)
      ? [...entries, [name, (s) => set(s, { ...(value as object), ...(at[at.length - 1] === "staticDirs" ? { "/app/more": "more" } : { EXTRA: "e" }) })]]
      : entries;
  }
  if (typeof value === "number") return [[name, (s) => set(s, value + 1)]];
  if (typeof value === "boolean") return [[name, (s) => set(s, !value)]];
  return [[name, (s) => set(s, `${String(value)}x`)]];
}

const under = (fields: readonly string[], name: string) => fields.some((f) => name === f || name.startsWith(`${f}.`));

describe("renderedHashes: exactly the listed fields reach the rendered text", () => {
  const before = renderedHashes(full);
  const cases = mutations(full).filter(([name]) => !["apacheConfigSha256", "entryPointSha256"].includes(name));

  it("covers every field of the spec", () => {
    expect(cases.length).toBeGreaterThan(30);
  });

  it.each(cases.map(([name, mutate]) => [name, mutate] as const))("%s", (name, mutate) => {
    const after = renderedHashes(mutate(full));
    expect({ field: name, config: after.apacheConfigSha256 !== before.apacheConfigSha256 }).toEqual({ field: name, config: under(APACHE_CONFIG_FIELDS, name) });
    expect({ field: name, entryPoint: after.entryPointSha256 !== before.entryPointSha256 }).toEqual({ field: name, entryPoint: under(ENTRY_POINT_FIELDS, name) });
  });
});
