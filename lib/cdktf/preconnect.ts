import * as fs from "node:fs";
import * as path from "node:path";
import type { ConnectionSpec, UnitSpec } from "../spec";
import { stableStringify } from "../hash";
import { unitsOfStack } from "../stacks/read";
import { hashTree } from "../local-files";
import { installIdentity } from "../install-identity";
import { deployedKeys } from "./deployed-state";
import { localStateFile, PreviousSynth } from "./previous-synth";
import { EarlySockets } from "../ssh/early-sockets";
import { resolveConnection } from "../ssh/resolve";

/**
 * Which hosts a `webshare deploy` is about to work on, guessed before the engine runs, so
 * that their SSH connections (and command agents) open while the engine inits and plans
 * instead of after (`Broker.preconnect`): on a 100 ms link a connect is about 0.8 s. The
 * guess compares each unit's synthesized deploy key with the one the stack's LOCAL state
 * file records, as the engine's plan will; a unit not in the state counts as changing. It
 * is only a guess, so it never decides anything: a unit the guess missed connects as it
 * always did, a wrong guess costs one idle login. No state file that can be read without
 * the engine (a shared backend, a workspace) means no guess, and a stack whose units all
 * match guesses no host: a no-op deploy opens no connection.
 */

/**
 * The connections of the units whose deploy key the state does not record, or (`changed`)
 * whose inputs changed since; each connection once. `changed` is asked only of recorded
 * units on hosts not already in the answer.
 */
export function hostsLikelyToChange(stack: string, stackJson: unknown, stateText: string | undefined, changed: (spec: UnitSpec) => boolean = () => false): ConnectionSpec[] {
  const deployed = stateText === undefined ? new Map<string, string>() : deployedKeys(stateText);
  const hosts = new Map<string, ConnectionSpec>();
  for (const unit of unitsOfStack(stack, stackJson)) {
    const key = stableStringify(unit.spec.host.connection);
    if (hosts.has(key)) continue;
    const recorded = unit.deployKey !== undefined && deployed.get(unit.address) === unit.deployKey;
    if (recorded && !changed(unit.spec)) continue;
    hosts.set(key, unit.spec.host.connection);
  }
  return [...hosts.values()];
}

/** The guess for a synthesized stack dir; [] when it cannot be made (anything unreadable). */
export function predictChangedHosts(stack: string, workingDirectory: string, env: NodeJS.ProcessEnv): ConnectionSpec[] {
  try {
    const stackJson: unknown = JSON.parse(fs.readFileSync(path.join(workingDirectory, "cdk.tf.json"), "utf8"));
    const stateFile = localStateFile(stackJson, workingDirectory, env);
    if (stateFile === undefined) return [];
    const stateText = fs.existsSync(stateFile) ? fs.readFileSync(stateFile, "utf8") : undefined;
    return hostsLikelyToChange(stack, stackJson, stateText);
  } catch {
    return [];
  }
}

/**
 * The guess made while the app synthesizes, from the previous synth: the hosts of its units
 * that the state does not record as deployed, or whose inputs on disk differ from what it
 * synthesized (an app's files, hashed with its own excludes as the synth hashes them; a
 * venv's lock or requirements file, by meaning). Paths are the project's (`projectDir`,
 * where provisioners run). A unit whose inputs cannot be read is left out: only what
 * surely changed connects, so a no-op still opens nothing. Props changed in the app's code
 * (not files) are not seen here; the guess after the synth finds those.
 */
export function hostsWithChangedInputs(previous: PreviousSynth, projectDir: string): ConnectionSpec[] {
  try {
    return hostsLikelyToChange(previous.stack, previous.json, previous.stateText, (spec) => inputsChanged(spec, projectDir));
  } catch {
    return [];
  }
}

/** Whether a unit's local inputs differ from its synthesized spec (false when they cannot be read). */
function inputsChanged(spec: UnitSpec, projectDir: string): boolean {
  try {
    if (spec.kind === "app") {
      const now = hashTree(path.resolve(projectDir, spec.source), spec.exclude);
      return stableStringify(now) !== stableStringify(spec.files);
    }
    if (spec.kind === "venv") {
      const installFile = spec.lockFile ?? spec.requirementsFile;
      return installFile !== undefined && installIdentity(fs.readFileSync(path.resolve(projectDir, installFile), "utf8")) !== spec.installSha256;
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * A TCP connection to the first hop of each host (its first jump host, else the host), as
 * the broker will resolve it (same env); a host whose connection cannot be resolved gets
 * none (its connect then names the problem).
 */
export function openEarlySockets(hosts: readonly ConnectionSpec[], env: NodeJS.ProcessEnv): EarlySockets {
  const sockets = new EarlySockets();
  for (const host of hosts) {
    try {
      const resolved = resolveConnection(host, { env });
      const first = resolved.jumps[0] ?? resolved.target;
      sockets.open(first.host, first.port);
    } catch {
      // left to the connect
    }
  }
  return sockets;
}
