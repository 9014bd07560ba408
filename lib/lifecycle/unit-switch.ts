import * as path from "node:path";
import type { AppUnitSpec, VenvUnitSpec } from "../spec";
import { allOf, commandLine, quote } from "../shell";
import { ConnectionLostError, errors } from "../errors";
import { plural } from "../plural";
import { abs, StepContext } from "./context";
import { switchSymlinkScript, touchExistingScript } from "./switch";
import { errorLogTail, verifyServing, VerifyFailure } from "./verify";
import { ensureInitRecordScript } from "./serving-record";
import { VENV_REQUIREMENTS_COPY } from "./kept";
import { olderCheckoutProblem, RecordedSource } from "../checkout";
import type { Stage, StageOutput } from "./staged-script";

/**
 * The one "switch -> verify -> revert" that every path uses (deploy of a venv or a release,
 * `webshare rollback`, `drift --fix`): switch the unit's symlink to a directory in one
 * rename and touch the entry points, run the verified reload, and if the new one does not
 * serve, switch back and fail with the error log tail. The scripts that switch a venv or a
 * release are the same for going forward and going back, so a revert restores exactly what
 * a switch sets (the venv's freeze.txt and requirements.txt included).
 */
export interface Switchover {
  /** "venv" or "release", for progress lines. */
  readonly noun: "venv" | "release";
  /** Home-relative link and the id switched in, for the progress line. */
  readonly link: string;
  readonly to: string;
  /** The id a failure goes back to: the last VERIFIED one, never the one being switched in. */
  readonly back?: string;
  /** Switch in (and touch); resolves when the new one is live, with a detail for the progress line. */
  switchIn(): Promise<string | void>;
  /**
   * The switch as ONE shell text, when it is one command (no reload between the link and
   * the touch): it may then ride at the end of the exchange before it (switchVerifyRevert's
   * `leadIn`). `switchedIn` takes what it printed, wherever it ran, and gives the detail.
   */
  readonly oneCommand?: { readonly script: string; switchedIn(stdout: string): string | void };
  /** Shell test, true once the link names the one switched in (guards an interrupt's switch back registered before a lead-in). */
  readonly isSwitchedIn?: string;
  /** The verified reload of what `switchIn` made live; undefined when it serves. */
  verify(): Promise<VerifyFailure | undefined>;
  /** Shell text that switches back to `back` (and touches): the revert, also run if the deploy is interrupted before verify ends. */
  readonly backScript?: string;
  /** After the switch back: verify that `back` serves again. */
  verifyBack(): Promise<VerifyFailure | undefined>;
  /** Restart the daemon processes a failed start may have left hanging; says what it did. */
  readonly restartWedged?: () => Promise<string>;
  /** Extra work of a revert beside the switch back (a self-managed config restored, Apache reloaded). */
  readonly afterBack?: () => Promise<void>;
}

/**
 * `leadIn`: the work right before the switch (the release build), given the switch as a
 * last stage for its exchange when the switch is one command (`oneCommand`; with the host
 * lock's try in front when the work ran without it); it returns what that stage printed, or
 * undefined when it sent no exchange. A switch that did not ride (the lock was busy,
 * nothing was built) runs on its own as before.
 */
export async function switchVerifyRevert(ctx: StepContext, s: Switchover, host: VenvUnitSpec["host"], leadIn?: (then: Stage | undefined) => Promise<StageOutput | undefined>): Promise<void> {
  // From the switch until verify ends, an interrupt switches back to the last verified version
  // (run by the interrupt handler over a fresh connection, before the host lock is released).
  // Registered before the lead-in (the switch may ride at its end), so only if it happened:
  // an interrupt during the build itself must switch nothing back nor restart anything.
  const guarded = leadIn !== undefined && s.isSwitchedIn !== undefined;
  const onInterrupt = s.backScript === undefined ? "true" : guarded ? `if ${s.isSwitchedIn}; then ${s.backScript}; fi` : s.backScript;
  const ifSwitched = guarded ? ` if it was switched in` : "";
  ctx.abortScripts?.set(
    onInterrupt,
    s.back !== undefined
      ? `interrupted before ${s.noun} ${s.to} was verified: switching back to ${s.back}, the last verified ${s.noun}${ifSwitched}`
      : `interrupted before ${s.noun} ${s.to} was verified: it stays live, unverified (no verified ${s.noun} to go back to); deploy again to verify it`,
  );
  const detail = (d: string | void) => `(${s.link} -> ${s.to}${d ? `; ${d}` : ""})`;
  try {
    const rode = leadIn === undefined ? undefined : await leadWithSwitch(ctx, s, leadIn);
    if (rode !== undefined) ctx.progress.ended(`switch ${s.noun}`, detail(rode.detail), rode.seconds);
    else await ctx.progress.step(`switch ${s.noun}`, () => s.switchIn(), detail);
    const failure = await s.verify();
    if (failure === undefined) return;
    const log = await errorLogTail(ctx, host);
    const restored = await ctx.progress.step("switch back", () => switchBack(ctx, s, failure), (r) => `(${r})`);
    throw errors.healthCheckFailed(ctx.place, failure.url, failure.reason, log, restored);
  } finally {
    ctx.abortScripts?.delete(onInterrupt);
  }
}

/** Run the lead-in with the switch riding at its end; what the switch printed and its seconds, or undefined when it did not run. */
async function leadWithSwitch(ctx: StepContext, s: Switchover, leadIn: (then: Stage | undefined) => Promise<StageOutput | undefined>): Promise<{ detail: string | void; seconds: number } | undefined> {
  const one = s.oneCommand;
  if (one === undefined) {
    await leadIn(undefined);
    return undefined;
  }
  const ride = ctx.retakeHostLock?.(one.script) ?? { script: one.script, took: (stdout: string) => stdout };
  let out: StageOutput | undefined;
  try {
    out = await leadIn({ name: `switch ${s.noun}`, script: ride.script });
  } catch (e) {
    // A command that answered (a failed stage) left no try on the host; one cut off may have.
    if (!(e instanceof ConnectionLostError)) ride.took("");
    throw e;
  }
  // No exchange (nothing to build): `took` still hears that no try is left on the host.
  const printed = ride.took(out?.stdout ?? "");
  return out === undefined || printed === undefined ? undefined : { detail: one.switchedIn(printed), seconds: out.seconds };
}

/**
 * Go back to the last verified version and PROVE it serves again before saying so. A start
 * that hangs (an import that never returns) leaves daemon processes wedged: each keeps taking
 * requests it never answers, even when another process already serves the old code, so one
 * good answer proves nothing. A failure that was not a steady error restarts them before the
 * proof (managed mode: the deploy user's own daemon processes are signalled; self-managed:
 * Apache is reloaded); a proof that still fails restarts them once more and is tried again.
 */
async function switchBack(ctx: StepContext, s: Switchover, failure: VerifyFailure): Promise<string> {
  if (s.backScript !== undefined) await ctx.session.run(ctx.place, "switch back", s.backScript);
  await s.afterBack?.();
  if (s.back === undefined) return `there was no verified ${s.noun} to switch back to`;
  if (failure.steady !== true && s.restartWedged !== undefined) {
    const restarted = await s.restartWedged();
    ctx.progress.info(`${restarted}: ${s.to} did not fail with a steady error, so a process may hang in loading it`);
  }
  let back = await s.verifyBack();
  if (back !== undefined && s.restartWedged !== undefined) {
    const restarted = await s.restartWedged();
    ctx.progress.info(`${s.back} did not answer after the switch back (${back.reason}); ${restarted}`);
    back = await s.verifyBack();
  }
  return back === undefined
    ? `switched back to the previous ${s.noun} ${s.back}, which serves again (verified)`
    : `switched back to the previous ${s.noun} ${s.back}, but it does not serve either: ${back.reason}`;
}

/**
 * What a failed switch goes back to (pure): the last verified id from the unit record (an
 * interrupted deploy may have left an unverified one live), else what the link pointed at
 * when it is one of ours; never the id being switched in.
 */
export function switchBackId(contentDir: string, linkDir: string, previousTarget: string, lastVerified: string | undefined, deploying: string): string | undefined {
  if (lastVerified !== undefined) return lastVerified === deploying ? undefined : lastVerified;
  if (previousTarget === "") return undefined;
  const dir = path.posix.resolve(linkDir, previousTarget);
  return path.posix.dirname(dir) === contentDir && path.posix.basename(dir) !== deploying ? path.posix.basename(dir) : undefined;
}

/**
 * Shell text reading the unit record (written by writeUnitRecord as indented JSON): a line
 * `current ID` when the last verified id's dir is still ready, and the lines `commit SHA` and
 * `at TIME` of the deploy that made it (lib/checkout.ts). Nothing when there is no record.
 */
export function lastVerifiedScript(recordFile: string, contentDir: string): string {
  return (
    `cur=$(sed -n 's/^  "current": "\\([0-9a-f]*\\)",$/\\1/p' ${quote(recordFile)} 2>/dev/null); ` +
    `if [ -n "$cur" ] && [ -f ${quote(contentDir)}/"$cur"/.webshare-ready ]; then printf 'current %s\\n' "$cur"; fi; ` +
    `sed -n -e 's/^  "commit": "\\([0-9a-f]*\\)",\\{0,1\\}$/commit \\1/p' -e 's/^  "deployedAt": "\\([^"]*\\)",\\{0,1\\}$/at \\1/p' ${quote(recordFile)} 2>/dev/null; true`
  );
}

/** What lastVerifiedScript printed (pure). */
export function parseLastVerified(out: string): { lastVerified?: string; recorded: RecordedSource } {
  const field = (name: string) => out.split("\n").find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).trim() || undefined;
  const lastVerified = field("current");
  const commit = field("commit");
  const deployedAt = field("at");
  return { ...(lastVerified !== undefined && { lastVerified }), recorded: { ...(commit !== undefined && { commit }), ...(deployedAt !== undefined && { deployedAt }) } };
}

/**
 * Refuse to replace what a host serves with code from a checkout that does not contain the
 * commit it was deployed from (lib/checkout.ts): nothing has changed on the host yet.
 */
export function refuseOlderCheckout(ctx: StepContext, recorded: RecordedSource, noun: "venv" | "release", deploying: string, live: string | undefined): void {
  if (deploying === live) return; // what serves stays: nothing newer is replaced
  const problem = olderCheckoutProblem(recorded, ctx.checkout, ctx.env);
  if (problem !== undefined) throw errors.olderCheckout(ctx.place, noun, problem);
}

/**
 * Shell text: stop (SIGTERM) this user's own Apache/mod_wsgi daemon processes so Apache starts
 * them afresh, and print how many. Only for managed mode, where every Apache process of the
 * deploy user is a mod_wsgi daemon process (self-managed Apache runs as the user itself);
 * never as root, where Apache's master and other users' daemons would match too.
 */
export function restartDaemonsScript(python: string): string {
  const py = [
    "import os, signal",
    "me, n = os.getuid(), 0",
    // Never as root: there, Apache's own master and every other user's daemons would match.
    "if me == 0: print(0); raise SystemExit",
    "for pid in filter(str.isdigit, os.listdir('/proc')):",
    "    try:",
    "        if os.stat('/proc/' + pid).st_uid != me: continue",
    "        argv0 = open('/proc/%s/cmdline' % pid, 'rb').read().split(b'\\0')[0].decode(errors='replace')",
    "    except OSError: continue",
    "    if argv0.startswith('(wsgi:') or os.path.basename(argv0) in ('apache2', 'httpd'):",
    "        try: os.kill(int(pid), signal.SIGTERM); n += 1",
    "        except OSError: pass",
    "print(n)",
  ].join("\n");
  return commandLine([python, "-c", py]);
}

/**
 * Shell text: copy a file over another in one rename (readers never see half a file); nothing
 * if it is missing. The copy is 0600 (the freeze and requirements copies are the deploy user's).
 */
function copyAtomicScript(from: string, to: string): string {
  const temp = `${to}.webshare-tmp`;
  return `if [ -f ${quote(from)} ]; then ${allOf([["rm", "-f", temp], ["cp", from, temp], ["chmod", "0600", temp], ["mv", "-f", temp, to]])}; fi`;
}

/** The recorded `pip freeze` inside each built venv dir. */
export const VENV_FREEZE_RECORD = ".webshare-freeze.txt";

/**
 * Restart the daemon processes of the host's Apache that serve this user: managed mode, the
 * deploy user's own daemon processes (SIGTERM; Apache starts them afresh); self-managed, the
 * user's Apache reloaded (a reload restarts every mod_wsgi daemon process). Says what it did.
 */
export async function restartWedged(ctx: StepContext, host: VenvUnitSpec["host"]): Promise<string> {
  if (host.apache.mode === "self") {
    await ctx.session.run(ctx.place, "reload Apache", commandLine(host.apache.reloadCommand));
    return "reloaded Apache (its daemon processes restart)";
  }
  const out = await ctx.session.run(ctx.place, "restart daemon processes", restartDaemonsScript(host.python));
  return `restarted ${plural(Number.parseInt(out.stdout.trim(), 10) || 0, "daemon process", "daemon processes")}`;
}

/**
 * Shell text that makes `dir` the live venv: its serving record, the symlink, the venv's own
 * freeze.txt and requirements.txt copied into place, then the entry points of the apps that
 * exist touched (printed one per line).
 */
export function venvSwitchScript(spec: VenvUnitSpec, dir: string): string {
  const host = spec.host;
  const link = abs(host, spec.venvPath);
  return [
    ensureInitRecordScript(`${dir}/bin/python`),
    switchSymlinkScript(link, dir, `${link}.before-webshare-${Date.now()}`),
    copyAtomicScript(`${dir}/${VENV_FREEZE_RECORD}`, abs(host, spec.freezePath)),
    copyAtomicScript(`${dir}/${VENV_REQUIREMENTS_COPY}`, abs(host, spec.requirementsPath)),
    touchExistingScript(spec.apps.map((a) => abs(host, a.entryPoint))),
  ].join(" && ");
}

/** Shell text that makes release `dir` the live app dir (no touch: a reload may go between). */
export function releaseLinkScript(spec: AppUnitSpec, dir: string): string {
  const link = abs(spec.host, spec.appDir);
  return `${commandLine(["mkdir", "-p", path.posix.dirname(link)])} && ${switchSymlinkScript(link, dir, `${link}.before-webshare-${Date.now()}`)}`;
}

export function touchEntryPointScript(spec: AppUnitSpec): string {
  return touchExistingScript([abs(spec.host, spec.entryPoint)]);
}

/**
 * Verified reload after a venv switch, for each app that has a health check and whose entry
 * point exists (`touched`; an app not deployed yet, as on a first deploy, has nothing to check).
 */
export async function verifyVenv(ctx: StepContext, spec: VenvUnitSpec, venvId: string, touched: ReadonlySet<string>): Promise<VerifyFailure | undefined> {
  for (const app of spec.apps) {
    if (app.healthCheck === undefined || !touched.has(abs(spec.host, app.entryPoint))) continue;
    const failure = await verifyServing(ctx, app.healthCheck, { venv: venvId }, { allowUnreporting: true });
    if (failure !== undefined) return failure;
  }
  return undefined;
}

/** Verified reload after a release switch; `allowUnreporting` only for releases deployed before the report existed. */
export async function verifyRelease(ctx: StepContext, spec: AppUnitSpec, releaseId: string, allowUnreporting: boolean): Promise<VerifyFailure | undefined> {
  if (spec.healthCheck === undefined) return undefined;
  return verifyServing(ctx, spec.healthCheck, { release: releaseId }, { allowUnreporting });
}

/** The lines a switch script printed: the entry points it touched. */
export function touchedSet(stdout: string): Set<string> {
  return new Set(stdout.split("\n").filter((l) => l !== ""));
}
