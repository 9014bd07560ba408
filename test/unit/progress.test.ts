import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { heartbeatSecondsFrom, lastLineOf, OutputTail, Progress } from "../../lib/progress";
import { loggedScript } from "../../lib/lifecycle/remote-log";
import { recordPidAndRun } from "../../lib/lifecycle/build-guard";

/** Long steps: a "started" line, a heartbeat with elapsed time and the last output line, under a fake clock. */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

function progress(heartbeatSeconds = 20): { p: Progress; lines: string[] } {
  const lines: string[] = [];
  return { p: new Progress("demo/venv", (l) => lines.push(l), () => Date.now(), { heartbeatSeconds }), lines };
}

/** A step that ends when the test says so. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (e: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test("started, a heartbeat every interval with elapsed time and the last line, then the end line", async () => {
  const { p, lines } = progress(20);
  const work = pending<number>();
  let last = "Collecting webshare-greeting==1.0.0";
  const done = p.long("pip install", () => work.promise, (n) => `(${n} requirements)`, { lastLine: () => last });
  expect(lines).toEqual(["[demo/venv] pip install started"]);
  await jest.advanceTimersByTimeAsync(19_999);
  expect(lines).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  last = "Installing collected packages: webshare-greeting";
  await jest.advanceTimersByTimeAsync(25_000);
  work.resolve(3);
  await done;
  await jest.advanceTimersByTimeAsync(60_000); // stopped: no more lines
  expect(lines).toEqual([
    "[demo/venv] pip install started",
    '[demo/venv] pip install still running (20s; last: "Collecting webshare-greeting==1.0.0")',
    '[demo/venv] pip install still running (40s; last: "Installing collected packages: webshare-greeting")',
    "[demo/venv] pip install (3 requirements) 45.0s",
  ]);
});

test("a failing step stops its heartbeat and says FAILED; a failing lastLine is left out, never fails the step", async () => {
  const { p, lines } = progress(10);
  const work = pending<void>();
  const done = p.long("upload app", () => work.promise, undefined, {
    lastLine: () => {
      throw new Error("session dropped");
    },
  });
  await jest.advanceTimersByTimeAsync(10_000);
  work.reject(new Error("boom"));
  await expect(done).rejects.toThrow("boom");
  await jest.advanceTimersByTimeAsync(30_000);
  expect(lines).toEqual(["[demo/venv] upload app started", "[demo/venv] upload app still running (10s)", "[demo/venv] upload app FAILED after 10.0s"]);
});

test("a slow lastLine (a command on the host) is not asked again while it runs, and nothing is written after the end", async () => {
  const { p, lines } = progress(5);
  const work = pending<void>();
  const answers: ReturnType<typeof pending<string>>[] = [];
  const done = p.long("pip install", () => work.promise, undefined, {
    lastLine: () => {
      const answer = pending<string>();
      answers.push(answer);
      return answer.promise;
    },
  });
  await jest.advanceTimersByTimeAsync(16_000); // three ticks, only the first asks
  expect(answers).toHaveLength(1);
  answers[0].resolve("Building wheel");
  await jest.advanceTimersByTimeAsync(0);
  expect(lines[1]).toBe('[demo/venv] pip install still running (16s; last: "Building wheel")');
  await jest.advanceTimersByTimeAsync(4_000); // the next tick asks again
  expect(answers).toHaveLength(2);
  work.resolve();
  await done;
  answers[1].resolve("late");
  await jest.advanceTimersByTimeAsync(10_000);
  expect(lines.filter((l) => l.includes("late"))).toEqual([]);
  expect(lines[lines.length - 1]).toBe("[demo/venv] pip install 20.0s");
});

test("quietStart: no started line; status text instead of a last line; a heartbeat for a wait loop", async () => {
  const { p, lines } = progress(15);
  const work = pending<void>();
  const done = p.long("verify reload", () => work.promise, undefined, { quietStart: true, status: () => "pid 7 still serves release a (expected b)" });
  await jest.advanceTimersByTimeAsync(15_000);
  work.resolve();
  await done;
  const beat = p.heartbeat("wait for the host lock", { status: () => "held by alice@ci pid 12" });
  await jest.advanceTimersByTimeAsync(30_000);
  beat.stop();
  beat.stop();
  await jest.advanceTimersByTimeAsync(30_000);
  expect(lines).toEqual([
    "[demo/venv] verify reload still running (15s; pid 7 still serves release a (expected b))",
    "[demo/venv] verify reload 15.0s",
    "[demo/venv] wait for the host lock still running (15s; held by alice@ci pid 12)",
    "[demo/venv] wait for the host lock still running (30s; held by alice@ci pid 12)",
  ]);
});

test("the heartbeat interval: WEBSHARE_HEARTBEAT_SECONDS when positive, else 20 s", () => {
  expect(heartbeatSecondsFrom({})).toBe(20);
  expect(heartbeatSecondsFrom({ WEBSHARE_HEARTBEAT_SECONDS: "2.5" })).toBe(2.5);
  expect(heartbeatSecondsFrom({ WEBSHARE_HEARTBEAT_SECONDS: "0" })).toBe(20);
  expect(heartbeatSecondsFrom({ WEBSHARE_HEARTBEAT_SECONDS: "soon" })).toBe(20);
});

test("the last line of output: plain, non-blank, after the last carriage return, at most 160 characters", () => {
  expect(lastLineOf("Collecting a\nInstalling b\n\n")).toBe("Installing b");
  expect(lastLineOf("\x1b[32mSuccessfully\x1b[0m installed a-1.0\r\n")).toBe("Successfully installed a-1.0");
  expect(lastLineOf("progress 10%\rprogress 90%")).toBe("progress 90%");
  expect(lastLineOf(" \n\t\n")).toBeUndefined();
  expect(lastLineOf("x".repeat(300))).toBe(`${"x".repeat(157)}...`);
  const tail = new OutputTail();
  tail.push("Processing ./a.whl\nBuilding wh");
  tail.push(Buffer.from("eel for b\n"));
  expect(tail.last()).toBe("Building wheel for b");
});

describe("loggedScript: a remote command's output in a log the heartbeat can tail", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-progress-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sh = (script: string) => {
    try {
      return { code: 0, out: execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" }) };
    } catch (e) {
      const failed = e as { status: number; stdout: string };
      return { code: failed.status, out: failed.stdout };
    }
  };

  test("output lands in the log and is printed at the end; the exit status is the command's", () => {
    const log = path.join(dir, "ok.log");
    expect(sh(loggedScript("echo collecting; echo oops >&2; echo installed", log))).toEqual({ code: 0, out: "collecting\noops\ninstalled\n" });
    expect(fs.readFileSync(log, "utf8")).toBe("collecting\noops\ninstalled\n");
    expect(sh(loggedScript("echo 'ERROR: no matching distribution'; exit 3", path.join(dir, "bad.log")))).toEqual({ code: 3, out: "ERROR: no matching distribution\n" });
  });

  test("the recorded pid is the process that runs the command (build-guard stops that one)", () => {
    const pidFile = path.join(dir, "build-pid");
    const out = sh(loggedScript(recordPidAndRun(pidFile, ["/bin/sh", "-c", "echo $$"]), path.join(dir, "pid.log"))).out.trim();
    expect(fs.readFileSync(pidFile, "utf8").trim()).toBe(out);
  });
});
