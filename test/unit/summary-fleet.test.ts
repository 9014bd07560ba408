import { summarizePlan } from "../../lib/summary/model";
import { renderPlanSummary } from "../../lib/summary/render";
import { fitParts } from "../../lib/summary/fleet";

/** plan-summary of a fleet: a PR comment holds 65,536 characters whatever the plan's size. */
const GITHUB_LIMIT = 65_536;
const sha = (c: string) => c.repeat(64);

/** A venv spec as a plan shows it (the fields the summary reads). */
function venv(i: number, packages: Record<string, string>, host = i % 10): Record<string, unknown> {
  return {
    kind: "venv",
    specVersion: 1,
    unit: `fleet/site${String(i).padStart(3, "0")}-venv`,
    host: { name: "fleet/host", connection: { host: `web${host}.example.com`, port: 22, user: "www", hostKey: "SHA256:x" }, python: "/usr/bin/python3" },
    venvPath: "private/venv",
    requirements: ["webshare-greeting>=1"],
    packages,
    installSha256: sha(Object.values(packages).join("").length % 2 ? "1" : "2"),
  };
}

const replace = (before: Record<string, unknown>, after: Record<string, unknown>) => ({
  address: `terraform_data.${String(before.unit).replace(/\W/g, "_")}_deploy_00000000`,
  mode: "managed",
  type: "terraform_data",
  name: `${String(before.unit).replace(/\W/g, "_")}_deploy_00000000`,
  change: { actions: ["create", "delete"], before: { input: before }, after: { input: after }, after_unknown: { id: true, output: true } },
});

const plan = (changes: unknown[]) => ({ format_version: "1.2", terraform_version: "1.6.2", planned_values: {}, resource_changes: changes });
const OLD = { "webshare-greeting": "1.0.0", "webshare-extra": "1.0.0", flask: "3.0.3" };

test("one package bumped in 500 venvs on 10 hosts: one section, far below GitHub's limit, naming the package and the count", () => {
  const changes = Array.from({ length: 500 }, (_, i) => replace(venv(i, OLD), venv(i, { ...OLD, "webshare-greeting": "2.0.0" })));
  const md = renderPlanSummary(summarizePlan(plan(changes)));
  expect(md.length).toBeLessThan(GITHUB_LIMIT);
  expect(md.length).toBeLessThan(10_000);
  expect(md).toContain("### webshare plan: 500 units change (500 to deploy)");
  expect(md).toContain("#### 500 venvs on 10 hosts: changed (redeploys)");
  expect(md).toContain("| `webshare-greeting` | upgraded (**major**) | `1.0.0` | `2.0.0` |");
  // Which units: folded, capped like every list.
  expect(md).toContain("<details><summary>Which venvs (500)</summary>\n\n- `fleet/site000-venv` on `www@web0.example.com:22`");
  expect(md).toContain("- ... and 400 more (see --json for all)\n\n</details>");
  expect(md.match(/####/g)).toHaveLength(1);
});

test("a bump shared by units whose sections differ is said once, with its count, above the sections", () => {
  const changes = Array.from({ length: 500 }, (_, i) =>
    replace(venv(i, OLD), venv(i, { ...OLD, "webshare-greeting": "2.0.0", ...(i % 2 === 0 && { "webshare-extra": "1.1.0" }) })),
  );
  const md = renderPlanSummary(summarizePlan(plan(changes)));
  expect(md.length).toBeLessThan(GITHUB_LIMIT);
  expect(md).toContain(
    [
      "**The same change in several units:**",
      "",
      "- `webshare-greeting` upgraded (major) `1.0.0` → `2.0.0`: 500 venvs on 10 hosts",
      "",
      "#### 250 venvs on 5 hosts: changed (redeploys)",
    ].join("\n"),
  );
  // A change all of whose units share one section is said there, not twice.
  expect(md).not.toContain("`webshare-extra` upgraded (minor) `1.0.0` → `1.1.0`: 250 venvs");
  expect(md).toContain("| `webshare-extra` | upgraded (minor) | `1.0.0` | `1.1.0` |");
  expect(md.match(/####/g)).toHaveLength(2);
});

test("units that all differ are cut, in order, with a note where the full text is; --full keeps them all", () => {
  // Each venv gets its own package: nothing to group.
  const changes = Array.from({ length: 2000 }, (_, i) => replace(venv(i, OLD), venv(i, { ...OLD, [`pkg-${i}`]: "1.0.0" })));
  const summary = summarizePlan(plan(changes));
  const md = renderPlanSummary(summary);
  expect(md.length).toBeLessThanOrEqual(60_000);
  expect(md).toContain("#### `fleet/site000-venv` (venv): changed (redeploys)");
  const shown = md.match(/^#### /gm)!.length;
  expect(md.endsWith(`> **Cut to fit a PR comment** (60,000 characters): ${2000 - shown} more sections (${2000 - shown} units) not shown.\n> Everything: \`webshare plan-summary --full PLAN.json\` (Markdown) or \`--json\`.\n`)).toBe(true);

  const full = renderPlanSummary(summary, { maxChars: Infinity });
  expect(full.length).toBeGreaterThan(GITHUB_LIMIT);
  expect(full.match(/^#### /gm)).toHaveLength(2000);
  expect(full).not.toContain("Cut to fit");
});

test("fitParts never exceeds the limit and never splits a part", () => {
  const parts = [
    { text: "head", units: 0 },
    { text: "a".repeat(50), units: 1 },
    { text: "b".repeat(50), units: 2 },
  ];
  const note = (sections: number, units: number) => `cut ${sections}/${units}`;
  expect(fitParts(parts, 1000, note)).toBe(`head\n\n${"a".repeat(50)}\n\n${"b".repeat(50)}\n`);
  expect(fitParts(parts, 80, note)).toBe(`head\n\n${"a".repeat(50)}\n\ncut 1/2\n`);
  expect(fitParts(parts, 30, note)).toBe("head\n\ncut 2/3\n");
  expect(fitParts(parts, 5, note)).toBe("cut \n"); // even the note is cut to the limit
});
