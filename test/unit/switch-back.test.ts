import type { StepContext } from "../../lib/lifecycle/context";
import type { RemoteSession } from "../../lib/ssh/remote-session";
import type { VerifyFailure } from "../../lib/lifecycle/verify";
import { restartWedged, Switchover, switchVerifyRevert } from "../../lib/lifecycle/unit-switch";
import { errorText } from "../../lib/errors";
import { Progress } from "../../lib/progress";
import { middleTierHost } from "../support/local-shell-session";

/**
 * The switch back after a failed verify, with the host played by a script of events: which
 * remote scripts ran, when the daemon processes were restarted, and what the user is told.
 * A release that HANGS at load wedges daemon processes that keep taking requests even after
 * another process serves the old code again, so one good answer after the switch back must
 * not be taken as proof: the wedged processes are restarted first.
 */

interface Played {
  readonly events: string[];
  readonly lines: string[];
  readonly outcome: string;
}

async function play(failure: VerifyFailure, options: { backServes: boolean[]; canRestart: boolean }): Promise<Played> {
  const events: string[] = [];
  const lines: string[] = [];
  const session = {
    target: "u@h:22",
    run: async (_place: unknown, step: string) => {
      events.push(`run ${step}`);
      return { stdout: "", stderr: "" };
    },
    runRaw: async () => ({ stdout: "", stderr: "", code: 1 }),
  } as unknown as RemoteSession;
  const ctx: StepContext = { session, place: { unit: "t/app", target: "u@h:22" }, progress: new Progress("t/app", (l) => lines.push(l)), instance: "test", env: {} };
  const answers = [...options.backServes];
  const switchover: Switchover = {
    noun: "release",
    link: "public",
    to: "new0000000000000",
    back: "old0000000000000",
    backScript: "switch-back-script",
    switchIn: async () => void events.push("switch in"),
    verify: async () => {
      events.push("verify");
      return failure;
    },
    verifyBack: async () => {
      events.push("verify back");
      return answers.shift() === true ? undefined : { url: "http://h/health", reason: "GET timed out" };
    },
    ...(options.canRestart && {
      restartWedged: async () => {
        events.push("restart daemons");
        return "restarted 2 daemon processes";
      },
    }),
  };
  let outcome = "";
  try {
    await switchVerifyRevert(ctx, switchover, middleTierHost("/home/u"));
  } catch (e) {
    outcome = errorText(e);
  }
  return { events, lines, outcome };
}

test("a release that never answered: the daemon processes are restarted BEFORE the old release is proven serving", async () => {
  const played = await play({ url: "http://h/.webshare/health", reason: "no answer (release new0000000000000 was not serving within 8s)" }, { backServes: [true], canRestart: true });
  expect(played.events).toEqual(["switch in", "verify", "run switch back", "restart daemons", "verify back"]);
  expect(played.lines).toContain("[t/app] restarted 2 daemon processes: new0000000000000 did not fail with a steady error, so a process may hang in loading it");
  expect(played.outcome).toContain("switched back to the previous release old0000000000000, which serves again (verified)");
});

test("a steady error (the release loaded and failed): no restart, the touch of the switch back is enough", async () => {
  const played = await play({ url: "http://h/.webshare/health", reason: "HTTP 500", steady: true }, { backServes: [true], canRestart: true });
  expect(played.events).toEqual(["switch in", "verify", "run switch back", "verify back"]);
  expect(played.outcome).toContain("which serves again (verified)");
});

test("a steady error whose old release then does not answer: restarted once, then proven", async () => {
  const played = await play({ url: "http://h/.webshare/health", reason: "HTTP 500", steady: true }, { backServes: [false, true], canRestart: true });
  expect(played.events).toEqual(["switch in", "verify", "run switch back", "verify back", "restart daemons", "verify back"]);
  expect(played.lines).toContain("[t/app] old0000000000000 did not answer after the switch back (GET timed out); restarted 2 daemon processes");
  expect(played.outcome).toContain("which serves again (verified)");
});

test("with no way to restart daemon processes: an old release that does not answer is said so, never 'verified'", async () => {
  const played = await play({ url: "http://h/.webshare/health", reason: "no answer" }, { backServes: [false], canRestart: false });
  expect(played.events).toEqual(["switch in", "verify", "run switch back", "verify back"]);
  expect(played.outcome).toContain("switched back to the previous release old0000000000000, but it does not serve either: GET timed out");
});

describe("what restarting the daemon processes runs on the host", () => {
  async function restartOn(host: ReturnType<typeof middleTierHost>): Promise<{ scripts: string[]; said: string }> {
    const scripts: string[] = [];
    const session = {
      target: "u@h:22",
      run: async (_place: unknown, _step: string, script: string) => {
        scripts.push(script);
        return { stdout: "2\n", stderr: "" };
      },
    } as unknown as RemoteSession;
    const ctx: StepContext = { session, place: { unit: "t/app", target: "u@h:22" }, progress: new Progress("t/app", () => undefined), instance: "test", env: {} };
    return { scripts, said: await restartWedged(ctx, host) };
  }

  test("managed: the deploy user's own daemon processes are signalled (never as root), and counted", async () => {
    const { scripts, said } = await restartOn(middleTierHost("/home/u"));
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain("os.kill(int(pid), signal.SIGTERM)");
    expect(scripts[0]).toContain("if me == 0: print(0); raise SystemExit");
    expect(said).toBe("restarted 2 daemon processes");
  });

  test("self-managed: the user's Apache is reloaded with its own reload command", async () => {
    const { scripts, said } = await restartOn(middleTierHost("/home/u", { apache: { mode: "self", confDir: "/home/u/apache/sites", testCommand: ["apache2ctl", "configtest"], reloadCommand: ["apache2ctl", "-f", "/home/u/apache/httpd.conf", "-k", "graceful"] } }));
    expect(scripts).toEqual(["apache2ctl -f /home/u/apache/httpd.conf -k graceful"]);
    expect(said).toBe("reloaded Apache (its daemon processes restart)");
  });
});
