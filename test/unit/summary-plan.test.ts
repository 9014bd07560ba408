import { stableStringify } from "../../lib/hash";
import { summarizePlan } from "../../lib/summary/model";
import type { AppChanges, VenvChanges } from "../../lib/summary/model";
import { PlanFormatError, mask, Opaque, unitsFromPlan } from "../../lib/summary/plan";
import { renderPlanSummary } from "../../lib/summary/render";

/** Small hand-written plan JSON in the shape `tofu show -json` prints (format 1.2). */
const sha = (c: string) => c.repeat(64);
const host = {
  name: "demo/host",
  connection: { host: "web.example.com", port: 22, user: "u", privateKeyPath: "~/.ssh/id", useAgent: false, hostKey: "SHA256:" + "A".repeat(43), connectTimeoutSeconds: 10 },
  home: "/home/u",
  python: "/usr/bin/python3",
  modWsgiModules: [],
  apache: { mode: "managed" },
  stateDir: ".webshare",
};

type Json = Record<string, unknown>;

function venv(over: Json = {}): Json {
  return {
    kind: "venv",
    specVersion: 1,
    unit: "demo/venv",
    host,
    venvPath: "private/venv",
    venvsDir: "private/venvs/private-venv",
    requirementsPath: "private/requirements.txt",
    freezePath: "private/freeze.txt",
    requirementsFile: "app/requirements.txt",
    lockFile: "app/requirements.lock",
    requirements: ["flask>=2"],
    packages: { flask: "2.3.3", werkzeug: "2.3.8", itsdangerous: "2.1.2" },
    installSha256: sha("1"),
    source: { extraIndexUrls: [], noIndex: false },
    wheelhouseFiles: {},
    upgradePip: false,
    apps: [{ entryPoint: "public/wwwshare.wsgi" }],
    keep: 2,
    ...over,
  };
}

function app(over: Json = {}): Json {
  return {
    kind: "app",
    specVersion: 1,
    unit: "demo/app",
    host,
    source: "app",
    exclude: ["__pycache__"],
    files: { "app.py": sha("a"), "static/site.css": sha("b"), "templates/old.html": sha("c") },
    appDir: "public",
    releasesDir: "private/releases/public",
    entryPoint: "public/wwwshare.wsgi",
    module: "app",
    callable: "app",
    mount: "/",
    staticDirs: { "/static": "static" },
    daemon: { name: "webshare-demo-app", processes: 2, threads: 15 },
    environment: { BLOG_TITLE: "Notes" },
    venvPath: "private/venv",
    apacheConfigSha256: sha("d"),
    entryPointSha256: sha("e"),
    keep: 2,
    ...over,
  };
}

const removal = (spec: Json) => {
  const { kind, specVersion, unit, host: h } = spec;
  return kind === "venv" ? { kind, specVersion, unit, host: h, venvPath: spec.venvPath, venvsDir: spec.venvsDir } : { kind, specVersion, unit, host: h, appDir: spec.appDir };
};

function change(address: string, actions: string[], before: Json | null, after: Json | null, extra: Json = {}, changeExtra: Json = {}): Json {
  return {
    address,
    mode: "managed",
    type: "terraform_data",
    name: address.split(".")[1],
    provider_name: "terraform.io/builtin/terraform",
    change: {
      actions,
      before: before && { id: "b0", input: before, output: before, triggers_replace: { deploy: "x" } },
      after: after && { input: after, triggers_replace: { deploy: "y" } },
      after_unknown: after ? { id: true, output: true } : {},
      before_sensitive: before ? {} : false,
      after_sensitive: after ? {} : false,
      ...changeExtra,
    },
    ...extra,
  };
}

const plan = (...resourceChanges: Json[]) => ({ format_version: "1.2", terraform_version: "1.6.2", planned_values: {}, resource_changes: resourceChanges });
const venvOf = (s: ReturnType<typeof summarizePlan>, unit = "demo/venv") => s.units.find((u) => u.unit === unit)!.changes as VenvChanges;
const appOf = (s: ReturnType<typeof summarizePlan>, unit = "demo/app") => s.units.find((u) => u.unit === unit)!.changes as AppChanges;

describe("finding units in a plan", () => {
  test("only deploy resources are units; remove resources, no-ops and other resources are not", () => {
    const units = unitsFromPlan(
      plan(
        change("terraform_data.venv_deploy_1", ["create", "delete"], venv(), venv({ packages: { flask: "3.0.3" } }), { action_reason: "replace_because_cannot_update" }),
        change("terraform_data.venv_remove_1", ["update"], removal(venv()), removal(venv({ venvPath: "x" }))),
        change("terraform_data.app_deploy_1", ["no-op"], app(), app()),
        change("terraform_data.other", ["create"], null, { kind: "something" }),
        { ...change("aws_instance.web", ["create"], null, app()), type: "aws_instance" },
      ),
    );
    expect(units.changes.map((c) => [c.unit, c.kind, c.action, c.address])).toEqual([["demo/venv", "venv", "replace", "terraform_data.venv_deploy_1"]]);
    expect(units.terraformVersion).toBe("1.6.2");
  });

  test("a deleted unit is listed once as removed; a deleted remove resource alone also counts", () => {
    const both = summarizePlan(plan(change("terraform_data.app_deploy_1", ["delete"], app(), null), change("terraform_data.app_remove_1", ["delete"], removal(app()), null)));
    expect(both.units.map((u) => [u.unit, u.action, u.address])).toEqual([["demo/app", "delete", "terraform_data.app_deploy_1"]]);
    expect(appOf(both).files.removed).toEqual(["app.py", "static/site.css", "templates/old.html"]);

    const onlyRemove = summarizePlan(plan(change("terraform_data.venv_remove_1", ["delete"], removal(venv()), null)));
    expect(onlyRemove.units.map((u) => [u.unit, u.action, u.changes])).toEqual([["demo/venv", "delete", undefined]]);
    expect(renderPlanSummary(onlyRemove)).toContain("#### `demo/venv` (venv): removed (the venv and its files are deleted from the host)");
  });

  test("deposed objects are not unit changes, but are noted", () => {
    const s = summarizePlan(plan(change("terraform_data.app_deploy_1", ["delete"], app(), null, { deposed: "00000001" })));
    expect(s.units).toEqual([]);
    expect(s.notes).toEqual([expect.stringContaining("1 deposed deploy object left")]);
    expect(renderPlanSummary(s)).toBe(`webshare: no changes to deployed units.\n\n> ${s.notes[0]}\n`);
  });

  test("null_resource: the spec is the JSON string triggers.spec", () => {
    const nullChange = (before: Json | null, after: Json | null) => ({
      ...change("null_resource.venv_deploy_1", ["create", "delete"], null, null),
      type: "null_resource",
      change: {
        actions: ["create", "delete"],
        before: before && { id: "1", triggers: { spec: stableStringify(before), "package:flask": "2.3.3" } },
        after: after && { triggers: { spec: stableStringify(after), "package:flask": "3.0.3" } },
        after_unknown: { id: true, triggers: {} },
      },
    });
    const s = summarizePlan(plan(nullChange(venv(), venv({ packages: { flask: "3.0.3", werkzeug: "2.3.8", itsdangerous: "2.1.2" } }))));
    expect(s.units[0]).toMatchObject({ unit: "demo/venv", resourceType: "null_resource", action: "replace", redeploys: true });
    expect(venvOf(s).packages!.upgraded).toEqual([{ name: "flask", from: "2.3.3", to: "3.0.3", changeKind: "major" }]);
  });

  test("a unit whose deploy resource moves (one deleted, one created) is one replacement", () => {
    const moved = { ...change("null_resource.venv_deploy_2", ["create"], null, null), type: "null_resource" } as any;
    moved.change.after = { triggers: { spec: stableStringify(venv({ packages: { flask: "3.0.3", werkzeug: "2.3.8", itsdangerous: "2.1.2" } })) } };
    const s = summarizePlan(plan(change("terraform_data.venv_deploy_1", ["delete"], venv(), null), moved));
    expect(s.units.map((u) => [u.unit, u.action, u.resourceType])).toEqual([["demo/venv", "replace", "null_resource"]]);
    expect(venvOf(s).packages!.upgraded.map((c) => c.name)).toEqual(["flask"]);
  });

  test("units are listed venvs first, then by construct path", () => {
    const s = summarizePlan(
      plan(
        change("terraform_data.b", ["create"], null, app({ unit: "site/blog" })),
        change("terraform_data.c", ["create"], null, venv({ unit: "site/blog-venv" })),
        change("terraform_data.a", ["create"], null, app({ unit: "site/api" })),
      ),
    );
    expect(s.units.map((u) => u.unit)).toEqual(["site/blog-venv", "site/api", "site/blog"]);
  });

  test.each([
    [[], "the plan JSON must be an object"],
    [{}, "no format_version"],
    [{ format_version: "2.0", resource_changes: [] }, "unsupported plan format_version"],
    [{ format_version: "1.0", values: {} }, "looks like state JSON"],
  ])("%j is refused", (input, message) => {
    expect(() => unitsFromPlan(input)).toThrow(PlanFormatError);
    expect(() => unitsFromPlan(input)).toThrow(message);
  });

  test("a plan without resource_changes (an empty configuration) has no changes", () => {
    expect(renderPlanSummary(summarizePlan({ format_version: "1.2", planned_values: { root_module: {} } }))).toBe("webshare: no changes to deployed units.\n");
  });

  test("an errored plan is noted", () => {
    expect(summarizePlan({ ...plan(), errored: true }).notes).toEqual([expect.stringContaining("The plan errored")]);
  });
});

describe("venv changes", () => {
  test("packages: upgraded, downgraded, added, removed, changed source, with change kinds", () => {
    const after = venv({ packages: { Flask: "3.0.3", werkzeug: "2.3.7", blinker: "1.8.2", mylib: "@ git+https://example.com/mylib.git@v2" }, installSha256: sha("2") });
    const before = venv({ packages: { flask: "2.3.3", werkzeug: "2.3.8", itsdangerous: "2.1.2", mylib: "1.0" } });
    const s = summarizePlan(plan(change("terraform_data.v", ["create", "delete"], before, after)));
    const v = venvOf(s);
    expect(v.packages).toMatchObject({
      upgraded: [{ name: "flask", from: "2.3.3", to: "3.0.3", changeKind: "major" }],
      downgraded: [{ name: "werkzeug", from: "2.3.8", to: "2.3.7", changeKind: "patch" }],
      added: [{ name: "blinker", version: "1.8.2" }],
      removed: [{ name: "itsdangerous", version: "2.1.2" }],
      changedSource: [{ name: "mylib", from: "1.0", to: "@ git+https://example.com/mylib.git@v2" }],
      unknown: [],
    });
    expect(v.installTextOnly).toBe(false);
    expect(v.settings).toEqual([]);
    expect(renderPlanSummary(s)).toBe(
      [
        "### webshare plan: 1 unit changes (1 to deploy)",
        "",
        "#### `demo/venv` (venv): changed (redeploys)",
        "",
        "| Package | Change | From | To |",
        "|---|---|---|---|",
        "| `flask` | upgraded (**major**) | `2.3.3` | `3.0.3` |",
        "| `werkzeug` | downgraded (patch) | `2.3.8` | `2.3.7` |",
        "| `mylib` | source changed | `1.0` | `@ git+https://example.com/mylib.git@v2` |",
        "| `blinker` | added |  | `1.8.2` |",
        "| `itsdangerous` | removed | `2.1.2` |  |",
        "",
        "5 package changes: 1 upgraded (1 major), 1 downgraded (1 patch), 1 source changed, 1 added, 1 removed.",
        "",
      ].join("\n"),
    );
  });

  test("without a lock, requirement lines are what changes", () => {
    const before = venv({ packages: undefined, requirements: ["flask>=2", "requests"] });
    const after = venv({ packages: undefined, requirements: ["flask>=3", "requests", "click"] });
    const s = summarizePlan(plan(change("terraform_data.v", ["create", "delete"], before, after)));
    expect(venvOf(s)).toMatchObject({ hasLock: false, requirements: [{ change: "added", name: "click" }, { change: "changed", name: "flask", from: "flask>=2", to: "flask>=3" }] });
    expect(venvOf(s).packages).toBeUndefined();
    expect(renderPlanSummary(s)).toContain(
      [
        "Requirement lines (no lock: pip resolves these on the host):",
        "",
        "| Requirement | Change | From | To |",
        "|---|---|---|---|",
        "| `click` | added |  | `click` |",
        "| `flask` | changed | `flask>=2` | `flask>=3` |",
        "",
        "2 requirement lines changed: 1 added, 1 changed.",
      ].join("\n"),
    );
  });

  test("a new venv lists its packages as added (and with a lock, not its requirement lines)", () => {
    const s = summarizePlan(plan(change("terraform_data.v", ["create"], null, venv())));
    expect(venvOf(s).packages!.added.map((p) => p.name)).toEqual(["flask", "itsdangerous", "werkzeug"]);
    const md = renderPlanSummary(s);
    expect(md).toContain("#### `demo/venv` (venv): new (deploys)");
    expect(md).toContain("| `flask` | added |  | `2.3.3` |");
    expect(md).not.toContain("Requirement lines");
    expect(md).toContain("- `venvPath`: `private/venv`");
  });

  test("text-only changes to the lock, wheelhouse files and other settings are named", () => {
    const before = venv({ wheelhouseFiles: { "a-1.0-py3-none-any.whl": sha("3"), "b-1.0-py3-none-any.whl": sha("4") } });
    const after = venv({
      installSha256: sha("9"),
      wheelhouseFiles: { "a-1.0-py3-none-any.whl": sha("5"), "c-1.0-py3-none-any.whl": sha("6") },
      source: { indexUrl: "https://pypi.example/simple", extraIndexUrls: [], noIndex: false },
      upgradePip: true,
    });
    const s = summarizePlan(plan(change("terraform_data.v", ["create", "delete"], before, after)));
    const v = venvOf(s);
    expect(v.installTextOnly).toBe(true);
    expect(v.wheelhouse).toEqual({ added: ["c-1.0-py3-none-any.whl"], removed: ["b-1.0-py3-none-any.whl"], changed: ["a-1.0-py3-none-any.whl"], unknown: [] });
    expect(v.settings).toEqual([
      { setting: "source.indexUrl", change: "added", to: "https://pypi.example/simple" },
      { setting: "upgradePip", change: "changed", from: "false", to: "true" },
    ]);
    const md = renderPlanSummary(s);
    expect(md).toContain("The installed file's text changes, but no package or requirement line does");
    expect(md).toContain("Wheelhouse: 1 added, 1 changed, 1 removed");
    expect(md).toContain("- `upgradePip`: `false` → `true`");
  });

  test("a connection-only change is an in-place update without a deploy", () => {
    const after = venv({ host: { ...host, connection: { ...host.connection, hostKey: "SHA256:" + "B".repeat(43) } } });
    const s = summarizePlan(plan(change("terraform_data.v", ["update"], venv(), after)));
    expect(s.units[0]).toMatchObject({ action: "update", redeploys: false });
    expect(renderPlanSummary(s)).toBe(
      [
        "### webshare plan: 1 unit changes",
        "",
        "#### `demo/venv` (venv): updated in place (connection settings only; no deploy)",
        "",
        "Changed settings:",
        "",
        `- \`host.connection.hostKey\`: \`SHA256:${"A".repeat(43)}\` → \`SHA256:${"B".repeat(43)}\``,
        "",
      ].join("\n"),
    );
  });

  test("a tainted unit redeploys with nothing changed, and says why", () => {
    const s = summarizePlan(plan(change("terraform_data.v", ["delete", "create"], venv(), venv(), { action_reason: "replace_because_tainted" })));
    const md = renderPlanSummary(s);
    expect(md).toContain("Why: its last deploy failed (tainted), so it deploys again.");
    expect(md).toContain("No readable setting changed; it deploys again with the same content.");
  });
});

describe("app changes", () => {
  test("files added, removed and changed by name; Apache config and entry point fields", () => {
    const after = app({
      files: { "app.py": sha("f"), "static/site.css": sha("b"), "static/new|odd.js": sha("0") },
      daemon: { name: "webshare-demo-app", processes: 4, threads: 15, maximumRequests: 500 },
      mount: "/blog",
      staticDirs: { "/static": "static", "/media": "media" },
      environment: { BLOG_TITLE: "Notes v2", NEW_FLAG: "1" },
      apacheConfigSha256: sha("7"),
      entryPointSha256: sha("8"),
      healthCheck: { url: "https://web.example.com/blog/", expectStatus: 200, timeoutSeconds: 30 },
    });
    const s = summarizePlan(plan(change("terraform_data.a", ["create", "delete"], app(), after)));
    const a = appOf(s);
    expect(a.files).toEqual({ added: ["static/new|odd.js"], removed: ["templates/old.html"], changed: ["app.py"], unknown: [] });
    expect(a.apacheConfig).toEqual({
      changed: true,
      settings: [
        { setting: "daemon.maximumRequests", change: "added", to: "500" },
        { setting: "daemon.processes", change: "changed", from: "2", to: "4" },
        { setting: "mount", change: "changed", from: "/", to: "/blog" },
        { setting: 'staticDirs["/media"]', change: "added", to: "media" },
      ],
    });
    // Environment values are not shown, only which keys change.
    expect(a.entryPoint).toEqual({
      changed: true,
      settings: [
        { setting: "environment.BLOG_TITLE", change: "changed" },
        { setting: "environment.NEW_FLAG", change: "added" },
      ],
    });
    expect(a.settings.map((c) => c.setting)).toEqual(["healthCheck.expectStatus", "healthCheck.timeoutSeconds", "healthCheck.url"]);
    const md = renderPlanSummary(s);
    expect(md).not.toContain("Notes v2");
    expect(md).toBe(
      [
        "### webshare plan: 1 unit changes (1 to deploy)",
        "",
        "#### `demo/app` (app): changed (redeploys)",
        "",
        "Files: 1 added, 1 changed, 1 removed",
        "",
        "- added `static/new|odd.js`",
        "- changed `app.py`",
        "- removed `templates/old.html`",
        "",
        "Apache config changes:",
        "",
        "- `daemon.maximumRequests`: `500` (added)",
        "- `daemon.processes`: `2` → `4`",
        "- `mount`: `/` → `/blog`",
        '- `staticDirs["/media"]`: `media` (added)',
        "",
        "Entry point changes:",
        "",
        "- `environment.BLOG_TITLE`: changed",
        "- `environment.NEW_FLAG`: added",
        "",
        "Other settings:",
        "",
        "- `healthCheck.expectStatus`: `200` (added)",
        "- `healthCheck.timeoutSeconds`: `30` (added)",
        "- `healthCheck.url`: `https://web.example.com/blog/` (added)",
      ].join("\n") + "\n",
    );
  });

  test("a config hash change with no readable field behind it still says the config changes", () => {
    const s = summarizePlan(plan(change("terraform_data.a", ["create", "delete"], app(), app({ apacheConfigSha256: sha("9") }))));
    expect(renderPlanSummary(s)).toContain("Apache config changes (the rendered text differs; no readable setting did");
  });

  test("a new app lists its files as added", () => {
    const s = summarizePlan(plan(change("terraform_data.a", ["create"], null, app())));
    expect(appOf(s).files.added).toEqual(["app.py", "static/site.css", "templates/old.html"]);
    const md = renderPlanSummary(s);
    expect(md).toContain("Files: 3 added");
    expect(md).toContain("Apache config and entry point: new.");
    expect(md).toContain("- `mount`: `/`");
  });

  test("long lists are capped for PR comments", () => {
    const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${String(i).padStart(2, "0")}.py`, sha("a")]));
    const md = renderPlanSummary(summarizePlan(plan(change("terraform_data.a", ["create"], null, app({ files })))), { maxItems: 5 });
    expect(md).toContain("- added `f04.py`\n- ... and 25 more (see --json for all)");
    expect(md).not.toContain("f05.py");
  });
});

describe("unknown and sensitive values", () => {
  test("mask replaces unknown and sensitive parts", () => {
    const masked = mask({ a: 1, b: null, c: { d: "x" } }, { b: true }, { c: { d: true } }) as any;
    expect(masked.a).toBe(1);
    expect(masked.b).toBeInstanceOf(Opaque);
    expect([masked.b.reason, masked.c.d.reason]).toEqual(["unknown", "sensitive"]);
    expect(JSON.stringify(masked)).toBe('{"a":1,"b":"(known after apply)","c":{"d":"(sensitive)"}}');
    expect(JSON.stringify(mask({ a: null }, { a: true }, {}))).toBe('{"a":"(known after apply)"}');
  });

  test("an unknown package version or file hash is shown as known after apply, not as a change", () => {
    const after = venv({ packages: { flask: null, werkzeug: "2.3.8", itsdangerous: "2.1.2" } });
    const rc = change("terraform_data.v", ["create", "delete"], venv(), after, {}, { after_unknown: { id: true, output: true, input: { packages: { flask: true } } } });
    const s = summarizePlan(plan(rc));
    expect(venvOf(s).packages).toMatchObject({ unknown: ["flask"], upgraded: [], downgraded: [], removed: [], unchanged: 2, hasChanges: true });
    expect(renderPlanSummary(s)).toContain("| `flask` | changes |  | (known after apply) |");
  });

  test("a wholly unknown input is reported as such", () => {
    const rc = change("terraform_data.v", ["create", "delete"], venv(), null, {}, { after: { input: null }, after_unknown: { id: true, input: true } });
    const s = summarizePlan(plan(rc));
    expect(s.units[0]).toMatchObject({ unit: "demo/venv", action: "replace", afterUnknown: true });
    expect(renderPlanSummary(s)).toContain("Its new settings are known only after apply.");
  });

  test("a wholly unknown files map makes the old files unknown, not removed", () => {
    const rc = change("terraform_data.a", ["create", "delete"], app(), app({ files: null }), {}, { after_unknown: { id: true, input: { files: true } } });
    const s = summarizePlan(plan(rc));
    expect(appOf(s).files).toEqual({ added: [], removed: [], changed: [], unknown: ["app.py", "static/site.css", "templates/old.html"] });
    expect(renderPlanSummary(s)).toContain("Some of its new settings are known only after apply.");
  });

  test("a wholly sensitive input shows nothing of it", () => {
    const rc = change("terraform_data.v", ["create", "delete"], venv(), venv({ packages: { secretpkg: "1" } }), {}, { after_sensitive: { input: true } });
    const md = renderPlanSummary(summarizePlan(plan(rc)));
    expect(md).toContain("Its new settings are marked sensitive and not shown.");
    expect(md).not.toContain("secretpkg");
  });

  test("sensitive values are never printed", () => {
    const after = app({ environment: { TOKEN: "s3cret" }, mount: "/secret-mount" });
    const rc = change("terraform_data.a", ["create", "delete"], app(), after, {}, { after_sensitive: { input: { mount: true, environment: { TOKEN: true } } } });
    const out = renderPlanSummary(summarizePlan(plan(rc))) + JSON.stringify(summarizePlan(plan(rc)));
    expect(out).not.toContain("s3cret");
    expect(out).not.toContain("/secret-mount");
    expect(out).toContain("`mount`: `/` → `(sensitive)`");
  });

  test("a sensitive value that did not change is not reported as a change", () => {
    const spec = app({ environment: { TOKEN: "s3cret" } });
    const sensitive = { input: { environment: { TOKEN: true } } };
    const rc = change("terraform_data.a", ["create", "delete"], spec, { ...spec, mount: "/new" }, {}, { before_sensitive: sensitive, after_sensitive: sensitive });
    expect(appOf(summarizePlan(plan(rc))).entryPoint.settings).toEqual([]);
    const changed = change("terraform_data.a", ["create", "delete"], spec, app({ environment: { TOKEN: "other" } }), {}, { before_sensitive: sensitive, after_sensitive: sensitive });
    expect(appOf(summarizePlan(plan(changed))).entryPoint.settings).toEqual([{ setting: "environment.TOKEN", change: "changed" }]);
  });
});
