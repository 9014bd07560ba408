import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { probeArgv, ProbeResult } from "../../lib/drift/probe";
import { findOrphans } from "../../lib/drift/orphans";
import { exitCodeOf, DriftReport } from "../../lib/drift/model";
import { renderCheckText, renderDriftMarkdown } from "../../lib/drift/render";
import { recordOwnership } from "../../lib/lifecycle/inventory";
import { unitRecordPath } from "../../lib/lifecycle/context";
import { appSpec, host, venvSpec } from "./drift-fixtures";

/**
 * `webshare drift` reports units recorded on a host that no stack declares any more (an app
 * removed or renamed): the probe returns the host's unit records in its one round trip, and
 * the same rules as the host inventory pick the orphans.
 */
const units = [{ stack: "site", address: "terraform_data.app_deploy_1", spec: appSpec }, { stack: "site", address: "terraform_data.venv_deploy_1", spec: venvSpec() }];
const renamed = { ...appSpec, unit: "site/old-app" };
const record = (spec: typeof appSpec) => ({ file: unitRecordPath(host, spec.unit), record: { unit: spec.unit, kind: spec.kind, instance: "i", current: "c", deployedAt: "d", ...recordOwnership(spec) } });

test("the probe returns the host's unit records with the rest of its state", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-records-"));
  try {
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify({ unit: "site/a" }));
    fs.writeFileSync(path.join(dir, "broken.json"), "{");
    const [python, ...args] = probeArgv("python3");
    const result: ProbeResult = JSON.parse(execFileSync(python!, args, { input: JSON.stringify({ venvs: [], apps: [], records: dir }), encoding: "utf8" }));
    expect(result.records).toEqual([{ file: path.join(dir, "a.json"), record: { unit: "site/a" } }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a recorded app no stack declares is an orphan; declared units and other hosts' units are not", () => {
  const other = { ...appSpec, unit: "elsewhere/app", host: { ...host, name: "elsewhere/host" } };
  const orphans = findOrphans(units, [record(appSpec), record(renamed), record(other)], "www@web.example:22");
  expect(orphans).toEqual([
    { unit: "site/old-app", kind: "app", target: "www@web.example:22", host: "site/host", record: unitRecordPath(host, "site/old-app"), apacheConfig: "/home/www/.webshare/apache/webshare-site-old-app.conf", paths: [] },
  ]);
});

test("orphans are drift: exit code 2, listed with what is still on the host", () => {
  const report: DriftReport = { units: [], failures: [], hosts: 1, seconds: 0.1, orphans: findOrphans(units, [record(renamed)], "www@web.example:22") };
  expect(exitCodeOf({ ...report, units: [] })).toBe(2);
  const text = renderCheckText({ ...report, units: [] });
  expect(text).toContain("site/old-app (app) on www@web.example:22: ORPHANED: recorded on the host for site/host, but no stack declares it");
  expect(text).toContain("still on the host: Apache snippet /home/www/.webshare/apache/webshare-site-old-app.conf");
  expect(renderDriftMarkdown({ ...report, units: [] })).toContain("`site/old-app` (app) on `www@web.example:22`: **orphaned**");
});
