import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HEALTH_PATH, renderEntryPoint } from "../../lib/render/entry-point";
import { parseServing, servingMismatch } from "../../lib/lifecycle/health";

/**
 * The rendered entry point, run by a real python3 from a release directory reached through
 * a symlink (as on the host): it reports the release it was loaded from on its health path
 * only, and passes every other request to the app.
 */
let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-entry-"))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function call(pathInfo: string): { status: string; body: string } {
  const release = path.join(root, "releases", "0123456789abcdef");
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(release, { recursive: true });
  fs.writeFileSync(path.join(release, "app.py"), "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [('app saw ' + environ['PATH_INFO'] + ' ' + __import__('os').environ['GREETING']).encode()]\n");
  fs.writeFileSync(path.join(release, "wwwshare.wsgi"), renderEntryPoint({ unit: "u", module: "app", callable: "app", environment: { GREETING: "hi" } }));
  fs.symlinkSync("releases/0123456789abcdef", path.join(root, "public"));
  const driver = [
    "import importlib.machinery, json, sys",
    "m = importlib.machinery.SourceFileLoader('entry', sys.argv[1]).load_module()",
    "out = {}",
    "body = m.application({'PATH_INFO': sys.argv[2]}, lambda status, headers: out.update(status=status))",
    "print(json.dumps({'status': out['status'], 'body': b''.join(body).decode()}))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", driver, path.join(root, "public", "wwwshare.wsgi"), pathInfo], { encoding: "utf8" }));
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
  expect(Object.keys(JSON.parse(answer.body)).sort()).toEqual(["loaded", "pid", "release", "started", "venv"]);
});

test("every other path, even one that only starts like it, goes to the app", () => {
  expect(call("/").body).toBe("app saw / hi");
  expect(call(`${HEALTH_PATH}/x`).body).toBe(`app saw ${HEALTH_PATH}/x hi`);
  expect(call("/.webshare/healthz").body).toBe("app saw /.webshare/healthz hi");
});

describe("parseServing and servingMismatch", () => {
  const report = { release: "r2", venv: "v2", pid: 7, started: 100.5, loaded: 101 };
  test("only a 200 JSON report with the fields is one", () => {
    expect(parseServing(200, JSON.stringify(report))).toEqual(report);
    expect(parseServing(200, JSON.stringify({ ...report, started: null }))?.started).toBeNull();
    expect(parseServing(404, JSON.stringify(report))).toBeUndefined();
    expect(parseServing(200, "ok\n")).toBeUndefined();
    expect(parseServing(200, JSON.stringify({ release: "r2" }))).toBeUndefined();
  });
  test("names what is still served instead of what was deployed", () => {
    const serving = parseServing(200, JSON.stringify(report))!;
    expect(servingMismatch(serving, { release: "r2" })).toBeUndefined();
    expect(servingMismatch(serving, { venv: "v2" })).toBeUndefined();
    expect(servingMismatch(serving, { release: "r1" })).toBe("pid 7 still serves release r2 (expected r1)");
    expect(servingMismatch(serving, { venv: "v1" })).toBe("pid 7 still serves venv v2 (expected v1)");
  });
});
