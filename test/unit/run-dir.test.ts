import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { markWorking, RUN_DIR_VARIABLE, stillWorking, waitUntilIdle } from "../../lib/cdktf/run-dir";

describe("run dir: provisioners still working in a webshare deploy", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-run-test-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a marked live process counts until it unmarks", async () => {
    const unmark = markWorking({ [RUN_DIR_VARIABLE]: dir });
    expect(stillWorking(dir)).toEqual([process.pid]);
    setTimeout(unmark, 150);
    expect(await waitUntilIdle(dir, 5_000, 20)).toEqual([]);
  });

  test("a process that died without unmarking (kill -9) does not count", () => {
    const dead = spawnSync("true").pid!;
    markWorking({ [RUN_DIR_VARIABLE]: dir }, dead);
    expect(fs.readdirSync(dir)).toEqual([String(dead)]);
    expect(stillWorking(dir)).toEqual([]);
  });

  test("outside a webshare deploy (no run dir) nothing is written", () => {
    markWorking({})();
    markWorking({ [RUN_DIR_VARIABLE]: path.join(dir, "gone") })();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("gives up at the timeout and names who is left", async () => {
    markWorking({ [RUN_DIR_VARIABLE]: dir });
    expect(await waitUntilIdle(dir, 50, 10)).toEqual([process.pid]);
  });
});
