import type { AppUnitSpec } from "../../lib/spec";
import { APACHE_CONFIG_FIELDS, ENTRY_POINT_FIELDS, apacheConfigOf, renderedHashes } from "../../lib/render/unit-files";
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
  daemon: {
    name: "d",
    processes: 2,
    threads: 15,
    maximumRequests: 100,
    startupTimeout: 15,
    requestTimeout: 60,
    gracefulTimeout: 5,
    displayName: "shown",
    lang: "C.UTF-8",
    locale: "C.UTF-8",
    user: "www",
    group: "www",
  },
  environment: { GREETING: "hi" },
  healthCheck: { url: "http://x/health", expectStatus: 200, timeoutSeconds: 30, releaseUrl: "http://x/app/.webshare/health", memoryWarnBytes: 1 << 30 },
  databaseYml: { path: "private/database.yml", file: "db.yml", digest: "d" },
  secretEnvironment: { path: "private/secrets/public.json", fromEnv: { SECRET_KEY: "APP_SECRET" }, digest: "d" },
  secretFiles: [{ path: "private/key.pem", fromEnv: "KEY_PEM", digest: "d" }],
  sharedPaths: { dir: "private/shared/public", paths: ["uploads"] },
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

/**
 * Some fields reach the text only when another is unset: the managed snippet runs the daemon
 * as the deploy user (`host.connection.user`) unless `daemon.user` names one. A field counts
 * as rendered when changing it changes a hash in at least one of these specs.
 */
const { user: _user, ...daemonWithoutUser } = full.daemon;
const specs: AppUnitSpec[] = [full, { ...full, daemon: daemonWithoutUser }];

describe("renderedHashes: exactly the listed fields reach the rendered text", () => {
  const cases = new Map<string, Array<(spec: AppUnitSpec) => AppUnitSpec>>();
  for (const spec of specs) {
    for (const [name, mutate] of mutations(spec)) {
      if (["apacheConfigSha256", "entryPointSha256"].includes(name)) continue;
      cases.set(name, [...(cases.get(name) ?? []), mutate]);
    }
  }
  const changed = (name: string, hash: "apacheConfigSha256" | "entryPointSha256") =>
    specs.some((spec, i) => {
      const mutate = mutations(spec).find(([n]) => n === name)?.[1];
      return mutate !== undefined && renderedHashes(mutate(spec))[hash] !== renderedHashes(specs[i]!)[hash];
    });

  it("covers every field of the spec", () => {
    expect(cases.size).toBeGreaterThan(30);
  });

  it.each([...cases.keys()])("%s", (name) => {
    expect({ field: name, config: changed(name, "apacheConfigSha256") }).toEqual({ field: name, config: under(APACHE_CONFIG_FIELDS, name) });
    expect({ field: name, entryPoint: changed(name, "entryPointSha256") }).toEqual({ field: name, entryPoint: under(ENTRY_POINT_FIELDS, name) });
  });
});

describe("apacheConfigOf: who the managed snippet runs the daemon as", () => {
  const { user: _u, group: _g, ...daemon } = full.daemon;
  const managed: AppUnitSpec = { ...full, daemon };
  test("managed with a known deploy user: user= and group= of that user", () => {
    expect(apacheConfigOf(managed)).toMatch(/^WSGIDaemonProcess d .* user=www group=www$/m);
  });
  test("managed via an ssh config alias (no user in the plan): a placeholder comment, no user=", () => {
    const { user: _user, ...connection } = managed.host.connection;
    const text = apacheConfigOf({ ...managed, host: { ...managed.host, connection } } as AppUnitSpec);
    expect(text).toContain("add user=<deploy user> group=<its group>");
    expect(text).not.toMatch(/^WSGIDaemonProcess.* user=/m);
  });
  test("self-managed: no user= (Apache runs as the deploy user already)", () => {
    const self = { ...managed, host: { ...managed.host, apache: { mode: "self" as const, confDir: "/etc/x", testCommand: ["t"], reloadCommand: ["r"] } } };
    expect(apacheConfigOf(self)).not.toMatch(/user=/);
  });
});
