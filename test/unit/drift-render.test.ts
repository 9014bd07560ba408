import { compareApp, compareVenv, desiredReleaseFiles } from "../../lib/drift/compare";
import type { DriftReport } from "../../lib/drift/model";
import { renderDriftMarkdown, renderDriftText } from "../../lib/drift/render";
import { apacheConfigOf } from "../../lib/render/unit-files";
import { appSpec, venvSpec } from "./drift-fixtures";

/** What a user reads: the terminal table and the Markdown of `webshare drift`. */
const where = { stack: "site", target: "www@web.example:22" };
const venv = compareVenv(
  venvSpec(),
  {
    link: "venvs/private-venv/0123456789abcdef",
    exists: true,
    recorded: "flask==3.0.0\nwerkzeug==3.0.1\n",
    live: { ok: true, python: "3.11.2", packages: [{ name: "Flask", version: "3.1.0" }, { name: "six", version: "1.16.0" }] },
  },
  where,
);
const app = compareApp(
  appSpec,
  { link: "private/releases/public/0123456789abcdef", exists: true, files: { ...desiredReleaseFiles(appSpec), "app.py": "1".repeat(64) }, config: apacheConfigOf(appSpec).replace("threads=15", "threads=1") },
  where,
);
const report: DriftReport = { units: [app, venv], failures: [], hosts: 1, seconds: 0.42 };

test("the text table lists each drifted package with desired, recorded and live, aligned", () => {
  const text = renderDriftText(report);
  expect(text).toContain("site/venv (venv) on www@web.example:22: DRIFTED");
  expect(text).toContain("  venv private/venv -> venvs/private-venv/0123456789abcdef (Python 3.11.2)");
  expect(text.split("\n").filter((l) => l.startsWith("  PACKAGE") || /^ {2}(flask|six|werkzeug) /.test(l))).toEqual([
    "  PACKAGE   DESIRED  RECORDED  LIVE    DRIFT",
    "  flask     3.0.0    3.0.0     3.1.0   live version differs",
    "  six       -        -         1.16.0  not in the lock",
    "  werkzeug  3.0.1    3.0.1     -       missing from the live venv",
  ]);
  expect(text).toContain("  app.py  content changed on the host");
  expect(text).toMatch(/- \(installed\) .*threads=1\b/);
  expect(text).toMatch(/\+ \(desired\) {3}.*threads=15\b/);
  expect(text).toContain("webshare drift: 2 of 2 units drifted on 1 host (checked in 0.4s).");
  expect(text.trimEnd().split("\n").pop()).toBe("Run `webshare drift --fix` to rebuild what drifted (and nothing else).");
});

test("Markdown has a GFM table per drifted venv and a diff block for the config", () => {
  const md = renderDriftMarkdown(report);
  expect(md).toMatch(/^### webshare drift: 2 of 2 units drifted\n/);
  expect(md).toContain("| Package | Desired | Recorded | Live | Drift |");
  expect(md).toContain("| `flask` | `3.0.0` | `3.0.0` | `3.1.0` | live version differs |");
  expect(md).toContain("| `six` | - | - | `1.16.0` | not in the lock |");
  expect(md).toContain("| `app.py` | content changed on the host |");
  expect(md).toMatch(/```diff\n- .*threads=1 .*\n\+ .*threads=15 .*\n```/);
});

test("no lock: the desired column shows the requirement, and the verdict says versions are unknown", () => {
  const loose = compareVenv(
    venvSpec({ lockFile: undefined, packages: undefined, requirements: ["flask>=3", "requests"] }),
    { link: null, exists: true, recorded: null, live: { ok: true, python: "3.11.2", packages: [{ name: "flask", version: "3.1.0" }] } },
    where,
  );
  const text = renderDriftText({ ...report, units: [loose] });
  expect(text).toContain("desired: no lock, so desired versions are unknown (requirement names are checked); recorded: MISSING (private/freeze.txt does not exist)");
  expect(text).toMatch(/ {2}requests {2}any version {2}\(no freeze\.txt\) {2}- {5}missing from the live venv/);
});

test("an unreachable host is an error naming it; fixes and the state after them are listed", () => {
  const failed: DriftReport = { units: [], failures: [{ target: "www@down.example:22", units: ["site/venv", "site/app"], message: "cannot connect to www@down.example:22: connect ECONNREFUSED" }], hosts: 1, seconds: 0 };
  expect(renderDriftText(failed)).toBe(
    "ERROR: cannot check www@down.example:22 (2 units: site/venv, site/app):\n  cannot connect to www@down.example:22: connect ECONNREFUSED\n\nwebshare drift: 1 host (2 units) could not be checked; nothing was compared.\n",
  );
  const fixed = renderDriftText({ ...report, fixes: [{ unit: "site/venv", target: where.target, action: "rebuild-venv", ok: true }], after: [] });
  expect(fixed).toContain("  site/venv on www@web.example:22: build a fresh venv beside the live one and switch to it: done");
  expect(fixed.trimEnd().split("\n").pop()).toBe("After --fix: no drift in 0 units.");
});
