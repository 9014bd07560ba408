import type { HealthCheckSpec, HostSpec } from "../spec";
import { commandLine } from "../shell";
import type { StepContext } from "./context";
import { Expected, healthyBy, memoryReport, waitForServing } from "./health";

/**
 * The verified reload after a switch + touch, within the check's one timeout: first the
 * entry point's own report must name what was deployed (when the check has a releaseUrl),
 * then the user's health URL must answer with the expected status.
 */
export interface VerifyOptions {
  /**
   * An entry point that does not report (rendered before verification existed) is accepted
   * with a note. Only for a venv switch under an app deployed earlier: a release deployed by
   * this version always reports.
   */
  readonly allowUnreporting: boolean;
}

/** Which URL failed and why; undefined when the new code serves and is healthy. */
export interface VerifyFailure {
  readonly url: string;
  readonly reason: string;
  /**
   * The new code answered the same server error every time: it loaded and failed. Otherwise
   * (no answer, timeouts, a wait to the deadline) a daemon process may hang in its start.
   */
  readonly steady?: boolean;
}

export async function verifyServing(ctx: StepContext, check: HealthCheckSpec, expected: Expected, options: VerifyOptions): Promise<VerifyFailure | undefined> {
  const deadline = Date.now() + check.timeoutSeconds * 1000;
  const what = expected.release !== undefined ? `release ${expected.release}` : `venv ${expected.venv}`;
  if (check.releaseUrl !== undefined) {
    const url = check.releaseUrl;
    let latest: string | undefined;
    const result = await ctx.progress.long("verify reload", () => waitForServing(url, expected, deadline, (r) => (latest = r)), (r) => {
      if (!r.ok) return `(${url} FAILED)`;
      const memory = memoryReport(r.serving, check.memoryWarnBytes).detail;
      return `(${what} serves: pid ${r.serving.pid}${r.serving.started !== null ? `, process started ${new Date(r.serving.started * 1000).toISOString()}` : ""}${memory !== undefined ? `, ${memory}` : ""})`;
    },
    { quietStart: true, status: () => latest });
    if (result.ok) {
      const warning = memoryReport(result.serving, check.memoryWarnBytes).warning;
      if (warning !== undefined) ctx.progress.info(warning);
    }
    if (!result.ok) {
      if (!(result.unverifiable && options.allowUnreporting)) {
        const when = !result.unverifiable && result.steady ? `; gave up before the ${check.timeoutSeconds}s timeout` : ` within ${check.timeoutSeconds}s`;
        return { url, reason: `${result.reason} (${what} was not serving${when})`, steady: !result.unverifiable && result.steady === true };
      }
      ctx.progress.info(`note: the app's entry point does not report what it serves (deployed by an older version?); checking ${check.url} only`);
    }
  }
  let latest: string | undefined;
  const failure = await ctx.progress.long("health check", () => healthyBy(check.url, check.expectStatus, deadline, (r) => (latest = r)), (r) => `(${check.url} ${r === undefined ? "OK" : "FAILED"})`, {
    quietStart: true,
    status: () => latest,
  });
  return failure === undefined ? undefined : { url: check.url, reason: failure };
}

/** Tail of the Apache error log (when the host names one): it usually says why an app failed. */
export async function errorLogTail(ctx: StepContext, host: HostSpec): Promise<string> {
  if (host.errorLog === undefined) return "";
  const result = await ctx.session.runRaw(ctx.place, "read error log", commandLine(["tail", "-n", "20", host.errorLog]));
  return result.code === 0 ? result.stdout : "";
}
