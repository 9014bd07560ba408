import { unitSpec } from "../spec";
import { specFromEnvironment } from "../transport";
import { targetOf } from "../ssh/session";
import { CountingSession } from "../ssh/counting-session";
import type { Writer } from "../progress";
import { hostLock, ownDirOf } from "../lifecycle/host-lock";
import { deployVenv, destroyVenv } from "../lifecycle/venv";
import { deployApp, destroyApp } from "../lifecycle/app";
import { pruneOrphans } from "../lifecycle/inventory";
import { isShared, openHostSession } from "./open";
import { progressFor, stepContext } from "./context";
import { type Checkout, checkoutOf } from "../checkout";
import { LockingSession } from "./locking-session";
import type { StepContext } from "../lifecycle/context";

/**
 * What `webshare provision create|destroy` (the local-exec provisioner) runs. The unit spec
 * comes from the synthesized stack, checked against the planned digest (create), or from
 * WEBSHARE_UNIT (destroy), see lib/transport.ts; the resource instance id from
 * WEBSHARE_INSTANCE; one SSH session (direct, or
 * shared through the broker of `webshare deploy`) and the unit's lock cover the whole run, the
 * host lock all of it but the unit's long private work (see lifecycle/host-lock.ts).
 */
export interface ProvisionOptions {
  readonly action: "create" | "destroy";
  readonly env: NodeJS.ProcessEnv;
  /** The provisioner's working directory (the stack directory, inside the deploying checkout). */
  readonly cwd: string;
  /** How the checkout of `cwd` is read (lib/checkout.ts). @default checkoutOf */
  readonly checkoutOf?: (dir: string) => Checkout | undefined;
  /** Progress lines. @default standard output */
  readonly write?: Writer;
  /** Connection notices (retries, the host-key opt-out warning, an unreachable broker). */
  readonly warn: Writer;
  /** Called with a cleanup function to run if the process is interrupted. */
  readonly onInterrupt?: (cleanup: () => Promise<void>) => void;
}

export async function provision(options: ProvisionOptions): Promise<void> {
  const spec = specFromEnvironment(options.action, options.env);
  const instance = options.env.WEBSHARE_INSTANCE ?? "unknown";
  const progress = progressFor(spec.unit, options.env, options.write);
  const place = { unit: spec.unit, target: targetOf(spec.host.connection) };
  // Through the connection broker of a `webshare deploy` run when there is one.
  const connection = await progress.step("connect", () => openHostSession(spec.host.connection, { env: options.env, warn: options.warn, shared: true }), (s) => `(${s.route ?? place.target}${isShared(s) ? ", shared connection" : ""})`);
  const session = new CountingSession(connection);
  try {
    const abortScripts = new Map<string, string>();
    // The checkout this deploy's code comes from (the provisioner runs in the stack dir, inside it).
    const checkout = options.action === "create" && spec.kind !== "inventory" ? (options.checkoutOf ?? checkoutOf)(options.cwd) : undefined;
    const base = stepContext(session, { place, progress, instance, abortScripts, env: options.env, ...(checkout !== undefined && { checkout }) });
    // The unit's own lock for the whole run, the host lock for all but its long private work;
    // taken by the unit's first command (one exchange), released by its last when it says so.
    const lock = hostLock(base, spec.host, spec.kind === "inventory" ? [] : [ownDirOf(spec)]);
    const locked = new LockingSession(session, lock);
    const ctx: StepContext = { ...base, session: locked, withoutHostLock: locked.withoutHostLock, retakeHostLock: locked.retakeWith, lockRelease: lock.inline };
    // Registered before the lock is taken (release removes it only if it is ours), so an
    // interrupt while waiting for it, or as the host makes it, never strands it. Stop at
    // once: drop the connection (no further step runs on it), then clean up and release
    // over a fresh one.
    options.onInterrupt?.(async () => {
      session.dispose();
      for (const note of abortScripts.values()) if (note !== "") progress.info(note);
      await lock.release([...abortScripts.keys()]);
    });
    try {
      // The inventory's create removes units the stack dropped; its cleanup (destroy) lists none, so all go.
      if (spec.kind === "inventory") await pruneOrphans(ctx, spec, { unlocked: session });
      else if (options.action === "destroy") await (spec.kind === "venv" ? destroyVenv(ctx, spec) : destroyApp(ctx, spec));
      else {
        const unit = unitSpec.parse(spec);
        await (unit.kind === "venv" ? deployVenv(ctx, unit) : deployApp(ctx, unit));
      }
    } finally {
      if (locked.touched) await lock.release().catch(() => undefined);
    }
    progress.info(`done: ${session.summary()} over ${isShared(connection) ? "the shared" : "its own"} connection`);
  } finally {
    session.dispose();
  }
}
