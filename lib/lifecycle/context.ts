import * as path from "node:path";
import type { HostSpec } from "../spec";
import type { OwnedPaths } from "../inventory-spec";
import type { Place, WebshareError } from "../errors";
import { commandFailedError } from "../ssh/disk-full";
import type { RemoteSession } from "../ssh/remote-session";
import type { Progress } from "../progress";
import { slug } from "../paths";
import { sha256Hex } from "../hash";
import type { Checkout } from "../checkout";

/** Everything one lifecycle step needs: the open session, where it runs, how to report. */
export interface StepContext {
  readonly session: RemoteSession;
  readonly place: Place;
  readonly progress: Progress;
  /** The Terraform resource instance id (terraform_data's `id`) doing this run. */
  readonly instance: string;
  /** The environment of the command that runs (variables named by the spec are read here, never from process.env). */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Remote shell snippets to run (over a fresh connection, before the host lock is released)
   * if this run is interrupted while they are registered: stop a build, switch back to the
   * last verified version. The value is printed when it runs ("" prints nothing).
   */
  readonly abortScripts?: Map<string, string>;
  /** The git checkout the deploy runs from (lib/checkout.ts); recorded with each unit, and a checkout behind the host's is refused. */
  readonly checkout?: Checkout;
  /**
   * Run work on the unit's own paths with the host lock let go (the unit lock kept), so other
   * units of the host can run meanwhile; the host lock is taken again after it
   * (lifecycle/host-lock.ts). Absent: the work runs under whatever lock the caller holds.
   */
  readonly withoutHostLock?: <T>(work: () => Promise<T>) => Promise<T>;
  /**
   * For the last command of `withoutHostLock`'s work: shell text that takes the host lock
   * again (one try) and then runs `then`; `took` says from the output whether `then` ran
   * (host/locking-session.ts). Absent with `withoutHostLock`.
   */
  readonly retakeHostLock?: (then: string) => { script: string; took(stdout: string): string | undefined };
  /**
   * Shell text that releases this run's locks, for the run's last command (the unit record
   * and prune) to end with; `done()` once that command ran, so no exchange of its own is
   * spent on the release (lifecycle/host-lock.ts). Absent: the caller releases them.
   */
  readonly lockRelease?: { script(): string; done(): void };
}

/** Absolute remote path of a home-relative one. */
export function abs(host: HostSpec, relative: string): string {
  return path.posix.join(host.home, relative);
}

/**
 * The error of a step that ran inside a larger command (a stage, lifecycle/staged-script.ts)
 * and exited `code`: as if it had been a command of its own, a full disk named as such.
 */
export function stepFailed(ctx: Pick<StepContext, "session" | "place">, step: string, script: string, code: number, output: string): Promise<WebshareError> {
  return commandFailedError((df) => ctx.session.runRaw(ctx.place, "check free space", df), ctx.place, step, script, code, output.trim());
}

/** Remote file recording which resource instance last deployed a unit. */
export function unitRecordPath(host: HostSpec, unit: string): string {
  return abs(host, `${host.stateDir}/units/${slug(unit)}-${sha256Hex(unit).slice(0, 8)}.json`);
}

export interface UnitRecord {
  readonly unit: string;
  readonly kind: "venv" | "app";
  readonly instance: string;
  /** Content id of the deployed venv or release. */
  readonly current: string;
  readonly deployedAt: string;
  /** The git commit of the checkout that deployed `current` (absent outside git, and in records of older versions). */
  readonly commit?: string;
  /** Set by `webshare rollback`: what served before it switched to `current`, and when. */
  readonly rolledBackFrom?: string;
  readonly rolledBackAt?: string;
  /** Construct path of the WebshareHost the unit belongs to (absent in records of older versions). */
  readonly host?: string;
  /** The paths the unit owns, so an inventory can remove it once the stack drops it (lifecycle/inventory.ts). */
  readonly owns?: OwnedPaths;
}
