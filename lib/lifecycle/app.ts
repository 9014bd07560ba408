import * as path from "node:path";
import type { AppRemovalSpec, AppUnitSpec } from "../spec";
import { commandLine, quote } from "../shell";
import { contentId } from "../hash";
import { splitParts } from "../split-parts";
import { errors } from "../errors";
import { apacheConfigPath, releaseFilesOf } from "../render/unit-files";
import { abs, StepContext, unitRecordPath } from "./context";
import { linkNamesScript, pruneScript, readLinkScript, removeIfEmpty, textToFileScript } from "./switch";
import { writeUnitRecord } from "./venv";
import { rebuildId } from "./rebuild";
import { appAsPlanned, ChangedError } from "./as-planned";
import { releaseModesScript } from "./modes";
import { lastVerifiedScript, parseLastVerified, refuseOlderCheckout, releaseLinkScript, restartWedged, Switchover, switchBackId, switchVerifyRevert, touchEntryPointScript, verifyRelease } from "./unit-switch";
import type { RecordedSource } from "../checkout";
import { runReleaseCommands } from "./release-commands";
import { comparedFiles, digestsScript, parseDigests } from "./secrets";
import { storeObjectsScript } from "./release-seed";
import { buildRelease, MANIFEST } from "./release-build";
import type { Stage } from "./staged-script";

/**
 * App lifecycle. Create: check the inputs against the plan, upload only changed files into a
 * NEW release directory (unchanged files copied, never hard-linked), write the entry point,
 * install the Apache config (self-managed: configtest first, old config kept on failure), then
 * switch -> verify -> revert (one rename of the app-dir symlink, touch, verified reload),
 * record, prune.
 */

export { apacheConfigPath };

const READY = ".webshare-ready";

export interface DeployAppOptions {
  /** Upload a fresh release even though one for these files exists: that one drifted (drift --fix). */
  readonly forceRebuild?: boolean;
  /** How an input that differs from the spec is reported (drift --fix: "since the synth"). */
  readonly changedError?: ChangedError;
}

/** Where this deploy's release lives on the host (pure: ids and paths). */
interface ReleaseTarget {
  readonly inputsId: string;
  readonly releaseId: string;
  readonly releasesDir: string;
  readonly releaseDir: string;
  /** Relative path -> sha256 of everything the release holds (the entry point included). */
  readonly files: Record<string, string>;
}

/** What the host has before the switch. */
interface ReleaseState {
  readonly previousDir?: string;
  /** Id of the live release when it is one of ours (a content-addressed dir). */
  readonly previousId?: string;
  /** The unit record's last verified release id, when that release is still ready. */
  readonly lastVerified?: string;
  readonly ready: boolean;
  readonly previousManifest: Record<string, string>;
  /** What the unit record says the live release was deployed from. */
  readonly recorded: RecordedSource;
  /** The installed Apache config (undefined: none). */
  readonly apacheConfig?: string;
  /** sha256 of database.yml and the secret files that exist (secrets.ts comparedFiles). */
  readonly digests: ReadonlyMap<string, string>;
}

export async function deployApp(ctx: StepContext, spec: AppUnitSpec, options: DeployAppOptions = {}): Promise<void> {
  const inputs = appAsPlanned(ctx, spec, options.changedError);
  const target = releaseTarget(spec, options);
  const state = await readReleaseState(ctx, spec, target);
  refuseOlderCheckout(ctx, state.recorded, "release", target.releaseId, state.previousId);
  // Building the release touches only this app's own paths (its releases, database.yml,
  // secrets, shared dir; the unit lock keeps them), so other units of the host may work
  // meanwhile; the Apache config, the switch and the reload are the host's (host lock).
  const ownWork = ctx.withoutHostLock ?? (<T>(work: () => Promise<T>) => work());
  // The switch rides at the end of the build's exchange (with the host lock's try in front
  // of it) when nothing runs between them: no release commands, and no config exchange (a
  // self-managed config that changed is tested after the build, in exchanges of its own).
  const rides = (spec.releaseCommands ?? []).length === 0 && !(spec.host.apache.mode === "self" && state.apacheConfig !== inputs.apacheConfig);
  if (!rides) {
    await ownWork(async () => {
      // One exchange: upload, database.yml, secrets, shared links, import check (release-build.ts).
      // Before the Apache config, so a release that fails them leaves the installed config alone.
      await buildRelease(ctx, spec, target, state, inputs, options);
      await runReleaseCommands(ctx, spec, target, state);
    });
  }
  // Riding, this sends nothing: managed, the snippet is written by the switch; self-managed, unchanged.
  const config = await installApacheConfig(ctx, spec, inputs.apacheConfig, { previous: state.apacheConfig }, { withSwitch: true });
  // Steps that must finish before the new release serves go here.
  const build = (then: Stage | undefined) => ownWork(() => buildRelease(ctx, spec, target, state, inputs, { ...options, ...(then !== undefined && { then }) }));
  await switchVerifyRevert(ctx, releaseSwitchover(ctx, spec, target, state, config), spec.host, rides ? build : undefined);
  if (options.forceRebuild) await retireDriftedRelease(ctx, target, state);
  // The store keeps a pristine copy of each file content the kept releases hold (lifecycle/release-seed.ts).
  const prune = `${pruneScript(spec.host.python, target.releasesDir, `${target.releasesDir}/.history`, target.releaseId, spec.keep)} && ${storeObjectsScript(spec.host.python, target.releasesDir, target.releaseId)}`;
  await writeUnitRecord(ctx, spec, target.releaseId, { recorded: state.recorded, unchanged: state.previousId === target.releaseId }, prune);
}

function releaseTarget(spec: AppUnitSpec, options: DeployAppOptions): ReleaseTarget {
  const files = releaseFilesOf(spec);
  // A release's shared links are part of it: other sharedPaths make another release.
  const inputsId = contentId(spec.sharedPaths === undefined ? files : { files, sharedPaths: spec.sharedPaths });
  const releaseId = options.forceRebuild ? rebuildId(inputsId) : inputsId;
  const releasesDir = abs(spec.host, spec.releasesDir);
  return { inputsId, releaseId, releasesDir, releaseDir: `${releasesDir}/${releaseId}`, files };
}

/**
 * One round trip: the live link's target, whether this release is already there, the unit
 * record, the installed Apache config (compared before it is rewritten), and the live
 * release's manifest (what the upload can copy on the host instead of sending).
 */
async function readReleaseState(ctx: StepContext, spec: AppUnitSpec, target: ReleaseTarget): Promise<ReleaseState> {
  const appLink = abs(spec.host, spec.appDir);
  const state = await ctx.session.run(
    ctx.place,
    "read current release",
    `${readLinkScript(appLink)}; echo '--'; { [ -f ${quote(target.releaseDir + "/" + READY)} ] && echo ready; } || echo missing; echo '--'; ` +
      `${lastVerifiedScript(unitRecordPath(spec.host, spec.unit), target.releasesDir)}; echo '--'; ` +
      `${digestsScript(comparedFiles(spec))}; echo '--'; ` +
      `${configReadScript(apacheConfigPath(spec))}; ` +
      `{ cd ${quote(path.posix.dirname(appLink))} 2>/dev/null && cat -- "$(readlink ${quote(path.posix.basename(appLink))})/${MANIFEST}" 2>/dev/null; } || true`,
  );
  const [linkOut, readyOut, verifiedOut, digestsOut, afterDigests = ""] = splitParts(state.stdout, "--\n", 4);
  const { config: apacheConfig, rest: manifestOut } = parseConfigRead(afterDigests);
  const previousTarget = linkOut.trim();
  const previousDir = previousTarget === "" ? undefined : path.posix.resolve(path.posix.dirname(appLink), previousTarget);
  const previousId = previousDir !== undefined && path.posix.dirname(previousDir) === target.releasesDir ? path.posix.basename(previousDir) : undefined;
  const { lastVerified, recorded } = parseLastVerified(verifiedOut);
  return { previousDir, previousId, lastVerified, recorded, ready: readyOut.trim() === "ready", previousManifest: parseManifest(manifestOut), digests: parseDigests(digestsOut ?? ""), ...(apacheConfig !== undefined && { apacheConfig }) };
}

/**
 * Shell text printing a file's byte count and content (or `absent`), then a newline: the
 * count says where the content ends, whatever the content holds (even our separators).
 */
export function configReadScript(file: string): string {
  return `if [ -f ${quote(file)} ] && [ -r ${quote(file)} ]; then wc -c < ${quote(file)} && cat -- ${quote(file)} && echo; else echo absent; fi`;
}

/** What configReadScript printed, and the text after it (pure). */
export function parseConfigRead(text: string): { config?: string; rest: string } {
  const nl = text.indexOf("\n");
  const head = text.slice(0, nl).trim();
  if (head === "absent" || nl < 0) return { rest: text.slice(nl + 1) };
  const bytes = Buffer.from(text.slice(nl + 1), "utf8");
  const size = Number(head);
  return { config: bytes.subarray(0, size).toString("utf8"), rest: bytes.subarray(size + 1).toString("utf8") };
}

/** Switch the app dir to the new release (reloading Apache between when its config changed), verify, or go back to the last verified one. */
function releaseSwitchover(ctx: StepContext, spec: AppUnitSpec, target: ReleaseTarget, state: ReleaseState, config: ConfigChange): Switchover {
  const { session, place } = ctx;
  const host = spec.host;
  const reload = config.changed && host.apache.mode === "self" ? commandLine(host.apache.reloadCommand) : undefined;
  const back = switchBackId(target.releasesDir, path.posix.dirname(abs(host, spec.appDir)), state.previousDir === undefined ? "" : state.previousDir, state.lastVerified, target.releaseId);
  // Going back: the last verified release, and a changed self-managed config restored and reloaded.
  const backSteps = [
    ...(back !== undefined ? [releaseLinkScript(spec, `${target.releasesDir}/${back}`)] : []),
    ...(reload !== undefined ? [restoreConfigScript(apacheConfigPath(spec), config.previous), `{ ${reload}; }`] : []),
  ];
  // Marked ready (complete, reusable) only now that every file is there.
  const snippet = config.withSwitch !== undefined ? `${config.withSwitch.script} && ` : "";
  const sw = `${snippet}${releaseModesScript(host.python, spec, target.releaseDir)} && ${commandLine(["touch", `${target.releaseDir}/${READY}`])} && ${releaseLinkScript(spec, target.releaseDir)}`;
  // Without a reload between the link and the touch, the switch is one command.
  const oneCommand: Switchover["oneCommand"] = reload === undefined ? { script: `${sw} && ${touchEntryPointScript(spec)}`, switchedIn: () => config.withSwitch?.announce() } : undefined;
  return {
    noun: "release",
    link: spec.appDir,
    to: target.releaseId,
    back,
    switchIn: async () => {
      if (oneCommand !== undefined) return oneCommand.switchedIn((await session.run(place, "switch release", oneCommand.script)).stdout);
      await session.run(place, "switch release", sw);
      await session.run(place, "reload Apache", reload!);
      await session.run(place, "touch entry point", touchEntryPointScript(spec));
      config.withSwitch?.announce();
    },
    ...(oneCommand !== undefined && { oneCommand }),
    isSwitchedIn: linkNamesScript(abs(host, spec.appDir), target.releaseDir),
    verify: () => verifyRelease(ctx, spec, target.releaseId, false),
    ...(backSteps.length > 0 && { backScript: [...backSteps, touchEntryPointScript(spec)].join(" && ") }),
    // A release deployed before verified reload existed has an entry point that does not report.
    verifyBack: () => verifyRelease(ctx, spec, back!, true),
    restartWedged: () => restartWedged(ctx, host),
  };
}

/** drift --fix: unmark the drifted release (and the inputs' own dir) so no later deploy reuses it. */
async function retireDriftedRelease(ctx: StepContext, target: ReleaseTarget, state: ReleaseState): Promise<void> {
  const stale = [target.inputsId, state.previousId].filter((id): id is string => id !== undefined).map((id) => `${target.releasesDir}/${id}/${READY}`);
  await ctx.session.run(ctx.place, "retire drifted release", commandLine(["rm", "-f", ...stale]));
}

/** A release manifest (file -> sha256) as read from the host; anything unreadable counts as none. */
function parseManifest(text: string | undefined): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(text ?? "");
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export interface ConfigChange {
  readonly changed: boolean;
  /** Previous config text, to restore on rollback; undefined if there was none. */
  readonly previous?: string;
  /**
   * Managed mode, when asked: the snippet is not written yet. `script` writes it, for the
   * switch command to start with (no exchange of its own), and `announce` prints it once
   * written.
   */
  readonly withSwitch?: { readonly script: string; announce(): void };
}

/**
 * `known.previous`: the installed config as already read in this run (undefined: none); read
 * here when `known` is not given. `options.withSwitch`: a managed snippet is left to the
 * switch command (ConfigChange.withSwitch).
 */
export async function installApacheConfig(ctx: StepContext, spec: AppUnitSpec, text: string, known?: { previous?: string }, options: { withSwitch?: boolean } = {}): Promise<ConfigChange> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const target = apacheConfigPath(spec);
  const previous = known !== undefined ? known.previous : await readConfig(ctx, target);
  if (previous === text) return { changed: false, previous };

  if (host.apache.mode === "managed") {
    // Only a copy for the hoster: Apache does not read it, so it may follow the release's checks.
    const script = `${commandLine(["mkdir", "-p", path.posix.dirname(target)])} && ${textToFileScript(target, text)}`;
    const announce = () => {
      progress.info(`Apache is managed by the hoster: send them this config (also written to ${target}):`);
      for (const line of text.trimEnd().split("\n")) progress.info(`  | ${line}`);
    };
    if (options.withSwitch === true) return { changed: true, previous, withSwitch: { script, announce } };
    await session.run(place, "write Apache snippet", script);
    announce();
    return { changed: true, previous };
  }
  const apache = host.apache;
  return progress.step("install Apache config", async () => {
    await session.writeFileAtomic(place, "install Apache config", target, text);
    const test = await session.runRaw(place, "Apache configtest", commandLine(apache.testCommand));
    if (test.code !== 0) {
      await restoreConfig(ctx, target, previous);
      throw errors.apacheConfigRejected(place, `${test.stdout}\n${test.stderr}`.trim());
    }
    return { changed: true, previous };
  }, () => `(${target})`);
}

async function readConfig(ctx: StepContext, target: string): Promise<string | undefined> {
  const current = await ctx.session.runRaw(ctx.place, "read Apache config", commandLine(["cat", target]));
  return current.code === 0 ? current.stdout : undefined;
}

/** Shell text: put the previous config back (or remove the new one when there was none). */
function restoreConfigScript(target: string, previous: string | undefined): string {
  if (previous === undefined) return commandLine(["rm", "-f", target]);
  return textToFileScript(target, previous);
}

async function restoreConfig(ctx: StepContext, target: string, previous: string | undefined): Promise<void> {
  if (previous === undefined) await ctx.session.runRaw(ctx.place, "restore Apache config", commandLine(["rm", "-f", target]));
  else await ctx.session.writeFileAtomic(ctx.place, "restore Apache config", target, previous);
}

/** Destroy: remove the app's link, releases, Apache config and record; nothing else. */
export async function destroyApp(ctx: StepContext, spec: AppRemovalSpec): Promise<void> {
  const host = spec.host;
  const appLink = abs(host, spec.appDir);
  const configFile = apacheConfigPath(spec);
  await ctx.progress.step("remove app", async () => {
    await ctx.session.run(ctx.place, "remove Apache config", commandLine(["rm", "-f", configFile]));
    if (host.apache.mode === "self") {
      await ctx.session.runRaw(ctx.place, "Apache configtest", commandLine(host.apache.testCommand));
      await ctx.session.runRaw(ctx.place, "reload Apache", commandLine(host.apache.reloadCommand));
    }
    await ctx.session.run(
      ctx.place,
      "remove app",
      [
        `if [ -L ${quote(appLink)} ]; then ${commandLine(["rm", "-f", appLink])}; fi`,
        commandLine(["rm", "-rf", abs(host, spec.releasesDir), unitRecordPath(host, spec.unit)]),
        removeIfEmpty(path.posix.dirname(abs(host, spec.releasesDir))),
      ].join(" && "),
    );
  });
}
