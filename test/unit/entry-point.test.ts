import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HEALTH_PATH, renderEntryPoint } from "../../lib/render/entry-point";
import { DEFAULT_MEMORY_WARN_BYTES, memoryReport, parseServing, servingMismatch } from "../../lib/lifecycle/health";

/**
 * The rendered entry point, run by a real python3 from a release directory reached through
 * a symlink (as on the host): it reports the release it was loaded from on its health path
 * only, and passes every other request to the app.
 */
let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-entry-"))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function release(id: string): string {
  const dir = path.join(root, "releases", id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "app.py"), "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [('app saw ' + environ['PATH_INFO'] + ' ' + __import__('os').environ['GREETING']).encode()]\n");
  fs.writeFileSync(path.join(dir, "wwwshare.wsgi"), renderEntryPoint({ unit: "u", module: "app", callable: "app", environment: { GREETING: "hi" } }));
  return dir;
}

/**
 * Load the entry point of each release in turn in ONE python (as one daemon process does
 * when a switch happens under it), then send `pathInfo` to the last one. `init` fakes the
 * venv the process started with (what the venv's .pth records).
 */
function call(pathInfo: string, ids = ["0123456789abcdef"], init?: string): { status: string; body: string } {
  fs.rmSync(root, { recursive: true, force: true });
  for (const id of ids) release(id);
  const driver = [
    "import importlib.machinery, json, sys",
    "if sys.argv[3]: sys._webshare_init = (sys.argv[3], 0.0)",
    "for i, path in enumerate(sys.argv[4:]):",
    "    m = importlib.machinery.SourceFileLoader('entry%d' % i, path).load_module()",
    "out = {}",
    "body = m.application({'PATH_INFO': sys.argv[1]}, lambda status, headers: out.update(status=status))",
    "print(json.dumps({'status': out['status'], 'body': b''.join(body).decode()}))",
  ].join("\n");
  const entries = ids.map((id) => {
    const link = path.join(root, `public-${id}`);
    fs.symlinkSync(`releases/${id}`, link);
    return path.join(link, "wwwshare.wsgi");
  });
  return JSON.parse(execFileSync("python3", ["-c", driver, pathInfo, "", init ?? "", ...entries], { encoding: "utf8" }));
}

test("the health path reports the release directory, venv, pid and start time of the process", () => {
  const answer = call(HEALTH_PATH);
  expect(answer.status).toBe("200 OK");
  const serving = parseServing(200, answer.body)!;
  expect(serving.release).toBe("0123456789abcdef");
  expect(serving.venv).toBe(path.basename(fs.realpathSync(execFileSync("python3", ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }).trim())));
  expect(serving.pid).toBeGreaterThan(0);
  expect(serving.started).toBeGreaterThan(Date.now() / 1000 - 60);
  expect(serving.loaded).toBeGreaterThanOrEqual(serving.started!);
  expect(serving.stale).toBe(false);
  expect(Object.keys(JSON.parse(answer.body)).sort()).toEqual(["loaded", "pid", "release", "rss", "stale", "started", "venv"]);
});

test("the health report's rss is the answering process's VmRSS in bytes, read per request", () => {
  const serving = parseServing(200, call(HEALTH_PATH).body)!;
  // A python3 that has imported json and the app: some MiB, far below 1 GiB.
  expect(serving.rss).toBeGreaterThan(1 << 20);
  expect(serving.rss).toBeLessThan(1 << 30);
  expect(serving.rss! % 1024).toBe(0);
  const text = renderEntryPoint({ unit: "u", module: "app", callable: "app", environment: {} });
  expect(text).toContain("rss=_rss()");
  expect(text).toContain("/proc/self/status");
});

test("a process that started with another venv reports that venv, and that it is stale", () => {
  const serving = parseServing(200, call(HEALTH_PATH, undefined, "/srv/venvs/00000000000000aa").body)!;
  expect([serving.venv, serving.stale]).toEqual(["00000000000000aa", true]);
});

test("a process that already ran another release's code is stale, though it reports the new release", () => {
  const serving = parseServing(200, call(HEALTH_PATH, ["00000000000000b1", "00000000000000b2"]).body)!;
  expect([serving.release, serving.stale]).toEqual(["00000000000000b2", true]);
  expect(servingMismatch(serving, { release: "00000000000000b2" })).toBe(`pid ${serving.pid} still holds code from before the switch and is restarting`);
});

test("every other path, even one that only starts like it, goes to the app", () => {
  expect(call("/").body).toBe("app saw / hi");
  expect(call(`${HEALTH_PATH}/x`).body).toBe(`app saw ${HEALTH_PATH}/x hi`);
  expect(call("/.webshare/healthz").body).toBe("app saw /.webshare/healthz hi");
});

describe("parseServing and servingMismatch", () => {
  const report = { release: "r2", venv: "v2", pid: 7, started: 100.5, loaded: 101, stale: false, rss: 50 * 2 ** 20 };
  test("only a 200 JSON report with the fields is one", () => {
    expect(parseServing(200, JSON.stringify(report))).toEqual(report);
    expect(parseServing(200, JSON.stringify({ ...report, started: null }))?.started).toBeNull();
    expect(parseServing(404, JSON.stringify(report))).toBeUndefined();
    expect(parseServing(200, "ok\n")).toBeUndefined();
    expect(parseServing(200, JSON.stringify({ release: "r2" }))).toBeUndefined();
  });
  test("an entry point from before rss (or without /proc) still verifies: rss is null", () => {
    const { rss: _rss, ...older } = report;
    expect(parseServing(200, JSON.stringify(older))).toEqual({ ...older, rss: null });
    expect(servingMismatch(parseServing(200, JSON.stringify(older))!, { release: "r2" })).toBeUndefined();
    expect(parseServing(200, JSON.stringify({ ...report, rss: null }))?.rss).toBeNull();
    expect(parseServing(200, JSON.stringify({ ...report, rss: "big" }))?.rss).toBeNull();
    expect(parseServing(200, JSON.stringify({ ...report, rss: -1 }))?.rss).toBeNull();
  });
  test("names what is still served instead of what was deployed", () => {
    const serving = parseServing(200, JSON.stringify(report))!;
    expect(servingMismatch(serving, { release: "r2" })).toBeUndefined();
    expect(servingMismatch(serving, { venv: "v2" })).toBeUndefined();
    expect(servingMismatch(serving, { release: "r1" })).toBe("pid 7 still serves release r2 (expected r1)");
    expect(servingMismatch(serving, { venv: "v1" })).toBe("pid 7 still serves venv v2 (expected v1)");
  });
});

describe("memoryReport: the verify's rss line and warning", () => {
  const mib = 2 ** 20;
  test("prints rss; no warning up to 80% of the limit (1 GiB by default)", () => {
    expect(memoryReport({ pid: 7, rss: 45.25 * mib })).toEqual({ detail: "rss 45.3 MiB" });
    expect(memoryReport({ pid: 7, rss: DEFAULT_MEMORY_WARN_BYTES * 0.8 }).warning).toBeUndefined();
  });
  test("warns above 80% of the limit, naming the process, the sizes and what to do", () => {
    const report = memoryReport({ pid: 7, rss: 900 * mib });
    expect(report.detail).toBe("rss 900.0 MiB");
    expect(report.warning).toBe(
      "warning: daemon process 7 uses 900.0 MiB of resident memory, above 80% of 1024.0 MiB (healthCheck.memoryWarnBytes, the hoster's 1 GiB per-process limit); " +
        "it grows with requests: set daemon.maximumRequests to recycle processes, or fewer threads",
    );
  });
  test("a smaller memoryWarnBytes lowers the threshold", () => {
    expect(memoryReport({ pid: 7, rss: 90 * mib }, 100 * mib).warning).toMatch(/^warning: daemon process 7 uses 90\.0 MiB of resident memory, above 80% of 100\.0 MiB \(healthCheck\.memoryWarnBytes\);/);
    expect(memoryReport({ pid: 7, rss: 70 * mib }, 100 * mib).warning).toBeUndefined();
  });
  test("nothing for an entry point that does not report rss", () => {
    expect(memoryReport({ pid: 7, rss: null })).toEqual({});
  });
});
