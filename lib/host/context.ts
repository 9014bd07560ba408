import type { Place } from "../errors";
import type { RemoteSession } from "../ssh/remote-session";
import { heartbeatSecondsFrom, Progress, Writer } from "../progress";
import type { StepContext } from "../lifecycle/context";
import type { Checkout } from "../checkout";

/**
 * How every command builds what a lifecycle step gets (lib/lifecycle/context.ts): the
 * session, where it runs, progress lines whose heartbeat follows the command's environment,
 * and that environment itself, so a step never reads process.env.
 */
export interface StepContextOptions {
  readonly place: Place;
  /** The Terraform resource instance id, or the command's name (`webshare rollback`). */
  readonly instance: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where progress lines go, or the Progress to use (one made before the session opened). */
  readonly progress: Writer | Progress;
  /** The `[label]` of progress lines when it is not the unit. @default the place's unit */
  readonly label?: string;
  /** Cleanup snippets an interrupt runs (provisioners only). */
  readonly abortScripts?: Map<string, string>;
  /** The git checkout a deploy's code comes from (lib/checkout.ts). */
  readonly checkout?: Checkout;
}

/** Progress lines `[label] step 1.2s`, heartbeats every WEBSHARE_HEARTBEAT_SECONDS of `env`. */
export function progressFor(label: string, env: NodeJS.ProcessEnv, write?: Writer): Progress {
  return new Progress(label, write, undefined, { heartbeatSeconds: heartbeatSecondsFrom(env) });
}

export function stepContext(session: RemoteSession, options: StepContextOptions): StepContext {
  const progress = options.progress instanceof Progress ? options.progress : progressFor(options.label ?? options.place.unit, options.env, options.progress);
  return {
    session,
    place: options.place,
    progress,
    instance: options.instance,
    env: options.env,
    ...(options.abortScripts !== undefined && { abortScripts: options.abortScripts }),
    ...(options.checkout !== undefined && { checkout: options.checkout }),
  };
}
