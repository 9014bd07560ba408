import * as path from "node:path";
import type { AppUnitSpec, VenvUnitSpec } from "../spec";
import { allOf, commandLine, quote } from "../shell";
import { errors } from "../errors";
import { abs, StepContext } from "./context";
import { switchSymlinkScript, touchExistingScript } from "./switch";
import { errorLogTail, verifyServing, VerifyFailure } from "./verify";
import { ensureInitRecordScript } from "./serving-record";
import { VENV_REQUIREMENTS_COPY } from "./kept";

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
  /** Switch in (and touch); resolves when the new one is live, with a detail for the progress line. */
  switchIn(): Promise<string | void>;
  /** The verified reload of what `switchIn` made live; undefined when it serves. */
  verify(): Promise<VerifyFailure | undefined>;
  /** Put back what served before; returns what the failure message says was restored. */
  revert(): Promise<string>;
}

export async function switchVerifyRevert(ctx: StepContext, s: Switchover, host: VenvUnitSpec["host"]): Promise<void> {
  await ctx.progress.step(`switch ${s.noun}`, () => s.switchIn(), (detail) => `(${s.link} -> ${s.to}${detail ? `; ${detail}` : ""})`);
  const failure = await s.verify();
  if (failure === undefined) return;
  const log = await errorLogTail(ctx, host);
  const restored = await ctx.progress.step("switch back", () => s.revert(), (r) => `(${r})`);
  throw errors.healthCheckFailed(ctx.place, failure.url, failure.reason, log, restored);
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
