import { joinConnection, removalSpec, RemovalSpec, unitSpec, UnitSpec } from "../spec";
import { deploySpecFromEnvironment, ReceivedSpec, specFromVariable } from "../transport";
import type { z } from "zod";
import { errors } from "../errors";
import { describeIssues } from "../props-validation";
import { targetOf } from "../ssh/session";
import { isShared, openSession } from "../ssh/broker-client";
import { CountingSession } from "../ssh/counting-session";
import { heartbeatSecondsFrom, Progress, Writer } from "../progress";
import { hostLock, ownDirOf } from "../lifecycle/host-lock";
import { deployVenv, destroyVenv } from "../lifecycle/venv";
import { deployApp, destroyApp } from "../lifecycle/app";
import type { StepContext } from "../lifecycle/context";
import { InventorySpec, inventorySpec } from "../inventory-spec";
import { pruneOrphans } from "../lifecycle/inventory";

/**
 * `webshare provision create|destroy`: what the local-exec provisioner runs. The unit spec
 * comes from the synthesized stack, checked against the planned digest (create), or from
 * WEBSHARE_UNIT (destroy), see lib/transport.ts; the resource instance id from
 * WEBSHARE_INSTANCE; one SSH session (direct, or
 * shared through the broker of `webshare deploy`) and the unit's lock cover the whole run, the
 * host lock all of it but the unit's long private work (see lifecycle/host-lock.ts).
 */
export interface ProvisionOptions {
  readonly action: "create" | "destroy";
  readonly env: NodeJS.ProcessEnv;
  readonly write?: Writer;
  /** Called with a cleanup function to run if the process is interrupted. */
  readonly onInterrupt?: (cleanup: () => Promise<void>) => void;
}

/** A received spec validated with `schema`, the machine's connection settings joined in. */
export function validUnit<T extends z.ZodType>(schema: T, received: ReceivedSpec): z.infer<T> {
  const parsed = schema.safeParse(joinConnection(received.planned, received.local));
  if (!parsed.success) throw errors.invalidSpec(describeIssues(parsed.error, joinConnection(received.planned, received.local)).join("; "));
  return parsed.data;
}

/** A spec as JSON text (WEBSHARE_UNIT), validated with `schema`. */
export function parseUnit<T extends z.ZodType>(schema: T, json: string | undefined): z.infer<T> {
  return validUnit(schema, specFromVariable({ WEBSHARE_UNIT: json }));
}

/** The unit a `provision` run works on, from the provisioner's environment (see lib/transport.ts). */
export function unitFromEnvironment(action: "create", env: NodeJS.ProcessEnv): UnitSpec;
export function unitFromEnvironment(action: "destroy", env: NodeJS.ProcessEnv): RemovalSpec;
export function unitFromEnvironment(action: "create" | "destroy", env: NodeJS.ProcessEnv): UnitSpec | RemovalSpec {
  return action === "create" ? validUnit(unitSpec, deploySpecFromEnvironment(env)) : validUnit(removalSpec, specFromVariable(env));
}

/** Whether the provisioner's JSON is a host inventory (lib/inventory-spec.ts) rather than a unit. */
function isInventory(json: string | undefined): boolean {
  try {
    const raw: unknown = JSON.parse(json ?? "");
    return raw !== null && typeof raw === "object" && (raw as { kind?: unknown }).kind === "inventory";
  } catch {
    return false;
  }
}

/** What a provisioner works on: a host inventory, which travels whole in WEBSHARE_UNIT (it is small), or a unit. */
export function specFromEnvironment(action: "create" | "destroy", env: NodeJS.ProcessEnv): UnitSpec | RemovalSpec | InventorySpec {
  if (isInventory(env.WEBSHARE_UNIT)) return validUnit(inventorySpec, specFromVariable(env));
  return action === "create" ? unitFromEnvironment("create", env) : unitFromEnvironment("destroy", env);
}

export async function provision(options: ProvisionOptions): Promise<void> {
  const spec = specFromEnvironment(options.action, options.env);
  const instance = options.env.WEBSHARE_INSTANCE ?? "unknown";
  const progress = new Progress(spec.unit, options.write, undefined, { heartbeatSeconds: heartbeatSecondsFrom(options.env) });
  const place = { unit: spec.unit, target: targetOf(spec.host.connection) };
  // Through the connection broker of a `webshare deploy` run when there is one.
  const connection = await progress.step("connect", () => openSession(spec.host.connection, options.env), (s) => `(${s.route ?? place.target}${isShared(s) ? ", shared connection" : ""})`);
  const session = new CountingSession(connection);
  try {
    const abortScripts = new Map<string, string>();
    const base: StepContext = { session, place, progress, instance, abortScripts, env: options.env };
    // The unit's own lock for the whole run, the host lock for all but its long private work.
    const lock = hostLock(base, spec.host, spec.kind === "inventory" ? [] : [ownDirOf(spec)]);
    const ctx: StepContext = { ...base, withoutHostLock: lock.withoutHostLock };
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
      await lock.acquire();
      // The inventory's create removes units the stack dropped; its cleanup (destroy) lists none, so all go.
      if (spec.kind === "inventory") await pruneOrphans(ctx, spec);
      else if (options.action === "destroy") await (spec.kind === "venv" ? destroyVenv(ctx, spec) : destroyApp(ctx, spec));
      else {
        const unit = unitSpec.parse(spec);
        await (unit.kind === "venv" ? deployVenv(ctx, unit) : deployApp(ctx, unit));
      }
    } finally {
      await lock.release().catch(() => undefined);
    }
    progress.info(`done: ${session.summary()} over ${isShared(connection) ? "the shared" : "its own"} connection`);
  } finally {
    session.dispose();
  }
}
