import * as path from "node:path";
import type { AppRemovalSpec, AppUnitSpec } from "../spec";
import { allOf, commandLine, quote } from "../shell";
import { contentId, sha256Hex } from "../hash";
import { errors } from "../errors";
import { plural } from "../plural";
import { slug } from "../paths";
import { hashTree } from "../local-files";
import { renderApacheConfig } from "../render/apache-config";
import { renderEntryPoint } from "../render/entry-point";
import { abs, StepContext, unitRecordPath } from "./context";
import { pruneScript, readLinkScript, switchSymlinkScript, touchExistingScript } from "./switch";
import { errorLogTail, removeIfEmpty, writeUnitRecord } from "./venv";
import { verifyServing } from "./verify";
import { rebuildId } from "./rebuild";
import { databaseYmlDigest, readDatabaseYml } from "../database-yml";

/**
 * App lifecycle. Create: upload only changed files into a NEW release directory (hard-linked
 * from the current one), write the entry point, install the Apache config (self-managed:
 * configtest first, old config kept on failure), switch the app-dir symlink in one rename,
 * touch the entry point, health-check, and switch back if the new release does not serve.
 */

const MANIFEST = ".webshare-manifest.json";
const READY = ".webshare-ready";

export function apacheConfigOf(spec: AppUnitSpec): string {
  return renderApacheConfig({
    unit: spec.unit,
    home: spec.host.home,
    appDir: spec.appDir,
    entryPoint: spec.entryPoint,
    venvPath: spec.venvPath,
    mount: spec.mount,
    staticDirs: spec.staticDirs,
    daemon: spec.daemon,
  });
}

/** Where the app's Apache config goes: the self-managed conf dir, or a snippet for the hoster. */
export function apacheConfigPath(spec: Pick<AppUnitSpec, "unit" | "host">): string {
  const name = `webshare-${slug(spec.unit)}.conf`;
  return spec.host.apache.mode === "self" ? path.posix.join(spec.host.apache.confDir, name) : abs(spec.host, `${spec.host.stateDir}/apache/${name}`);
}

/** Which files to delete and upload to turn release `before` into `after` (pure). */
export function planUpload(before: Record<string, string>, after: Record<string, string>): { remove: string[]; upload: string[] } {
  const remove = Object.keys(before).filter((f) => after[f] !== before[f]);
  const upload = Object.keys(after).filter((f) => after[f] !== before[f]);
  return { remove, upload };
}

export interface DeployAppOptions {
  /** Upload a fresh release even though one for these files exists: that one drifted (drift --fix). */
  readonly forceRebuild?: boolean;
}

export async function deployApp(ctx: StepContext, spec: AppUnitSpec, options: DeployAppOptions = {}): Promise<void> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const localFiles = hashTree(spec.source, spec.exclude);
  const changed = [...new Set([...Object.keys(localFiles), ...Object.keys(spec.files)])].filter((f) => localFiles[f] !== spec.files[f]);
  if (changed.length > 0) throw errors.appFilesChanged(place, changed);

  const entryPointName = path.posix.basename(spec.entryPoint);
  const entryPointText = renderEntryPoint({ unit: spec.unit, module: spec.module, callable: spec.callable, environment: spec.environment });
  const releaseFiles = { ...spec.files, [entryPointName]: sha256Hex(entryPointText) };
  if (spec.files[entryPointName] !== undefined) progress.info(`note: the source's own ${entryPointName} is replaced by the generated entry point`);
  const inputsId = contentId(releaseFiles);
  const releaseId = options.forceRebuild ? rebuildId(inputsId) : inputsId;
  const releasesDir = abs(host, spec.releasesDir);
  const releaseDir = `${releasesDir}/${releaseId}`;
  const appLink = abs(host, spec.appDir);

  // One round trip: the live link's target, whether this release is already there, and the
  // live release's manifest (what the upload can hard-link instead of sending).
  const state = await session.run(
    place,
    "read current release",
    `${readLinkScript(appLink)}; echo '--'; { [ -f ${quote(releaseDir + "/" + READY)} ] && echo ready; } || echo missing; echo '--'; ` +
      `{ cd ${quote(path.posix.dirname(appLink))} 2>/dev/null && cat -- "$(readlink ${quote(path.posix.basename(appLink))})/${MANIFEST}" 2>/dev/null; } || true`,
  );
  const [linkOut, readyOut, manifestOut] = state.stdout.split("--\n");
  const previousTarget = linkOut.trim();
  const previousDir = previousTarget === "" ? undefined : path.posix.resolve(path.posix.dirname(appLink), previousTarget);
  const previousId = previousDir !== undefined && path.posix.dirname(previousDir) === releasesDir ? path.posix.basename(previousDir) : undefined;

  if (readyOut.trim() === "ready") {
    progress.info(`release ${releaseId} already on the host: reusing it`);
  } else {
    await progress.step("upload app", async () => {
      let before: Record<string, string> = {};
      // Never seed from a drifted release: its hard links would carry the edits over.
      if (previousId !== undefined && previousId !== releaseId && !options.forceRebuild) before = parseManifest(manifestOut);
      const seed = Object.keys(before).length > 0 ? [["cp", "-al", previousDir!, releaseDir]] : [["mkdir", "-p", releaseDir]];
      await session.run(place, "upload app", allOf([["mkdir", "-p", releasesDir], ["rm", "-rf", releaseDir], ...seed, ["rm", "-f", `${releaseDir}/${READY}`]]));
      const { remove, upload } = planUpload(before, releaseFiles);
      // Hard-linked files are shared with the live release: unlink before writing new content.
      const dirs = [...new Set(upload.map((f) => path.posix.dirname(`${releaseDir}/${f}`)))];
      const prepare: string[][] = [];
      if (remove.length > 0) prepare.push(["rm", "-f", ...remove.map((f) => `${releaseDir}/${f}`)]);
      if (dirs.length > 0) prepare.push(["mkdir", "-p", ...dirs]);
      if (prepare.length > 0) await session.run(place, "upload app", allOf(prepare));
      await session.putFiles(
        place,
        "upload app",
        upload.filter((f) => f !== entryPointName).map((f) => ({ local: path.resolve(spec.source, f), remote: `${releaseDir}/${f}` })),
      );
      await session.writeFileAtomic(place, "write entry point", `${releaseDir}/${entryPointName}`, entryPointText);
      await session.writeFileAtomic(place, "upload app", `${releaseDir}/${MANIFEST}`, JSON.stringify(releaseFiles, null, 2) + "\n");
      return { uploaded: upload.length, removed: remove.filter((f) => !(f in releaseFiles)).length };
    }, (r) => `(${plural(r.uploaded, "file")} uploaded, ${r.removed} removed, release ${releaseId})`);
  }

  if (spec.databaseYml !== undefined) await installDatabaseYml(ctx, spec, spec.databaseYml);
  const config = await installApacheConfig(ctx, spec);

  await progress.step("switch release", async () => {
    // Marked ready (complete, reusable) only now that every file is there.
    const sw = `${allOf([["touch", `${releaseDir}/${READY}`], ["mkdir", "-p", path.posix.dirname(appLink)]])} && ${switchSymlinkScript(appLink, releaseDir, `${appLink}.before-webshare-${Date.now()}`)}`;
    const touch = touchExistingScript([abs(host, spec.entryPoint)]);
    if (config.changed && host.apache.mode === "self") {
      await session.run(place, "switch release", sw);
      await session.run(place, "reload Apache", commandLine(host.apache.reloadCommand));
      await session.run(place, "touch entry point", touch);
    } else await session.run(place, "switch release", `${sw} && ${touch}`);
  }, () => `(${spec.appDir} -> ${releaseId})`);

  if (spec.healthCheck !== undefined) {
    const check = spec.healthCheck;
    const failure = await verifyServing(ctx, check, { release: releaseId }, { allowUnreporting: false });
    if (failure !== undefined) {
      const log = await errorLogTail(ctx, host);
      await rollBack(ctx, spec, previousDir, config);
      const restored = previousDir ? `switched back to the previous release ${path.posix.basename(previousDir)}` : "there was no previous release to switch back to";
      throw errors.healthCheckFailed(place, failure.url, failure.reason, log, restored);
    }
  }
  await writeUnitRecord(ctx, spec, releaseId);
  if (options.forceRebuild) {
    const stale = [inputsId, previousId].filter((id): id is string => id !== undefined).map((id) => `${releasesDir}/${id}/${READY}`);
    await session.run(place, "retire drifted release", commandLine(["rm", "-f", ...stale]));
  }
  await session.run(place, "prune old releases", pruneScript(host.python, releasesDir, `${releasesDir}/.history`, releaseId, spec.keep));
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

/**
 * Write database.yml with mode 0600 when its content differs from what is there (compared by
 * sha256sum on the host, so the secret never travels back). The content is read here, at
 * apply time, and must match what the plan was made from.
 */
async function installDatabaseYml(ctx: StepContext, spec: AppUnitSpec, yml: NonNullable<AppUnitSpec["databaseYml"]>): Promise<void> {
  const read = readDatabaseYml(yml.file !== undefined ? { file: yml.file } : { fromEnv: yml.fromEnv ?? {} }, process.env);
  if (read.text === undefined) throw errors.databaseYmlUnavailable(ctx.place, read.problem ?? "unknown problem");
  if (databaseYmlDigest(spec.unit, read.text) !== yml.digest) throw errors.appFilesChanged(ctx.place, ["database.yml (its content)"]);
  const target = abs(spec.host, yml.path);
  const current = await ctx.session.runRaw(ctx.place, "check database.yml", commandLine(["sha256sum", target]));
  if (current.code === 0 && current.stdout.split(" ")[0] === sha256Hex(read.text)) return;
  await ctx.progress.step("install database.yml", async () => {
    await ctx.session.run(ctx.place, "install database.yml", commandLine(["mkdir", "-p", path.posix.dirname(target)]));
    await ctx.session.writeFileAtomic(ctx.place, "install database.yml", target, read.text!, 0o600);
  }, () => `(${yml.path}, mode 0600)`);
}

export interface ConfigChange {
  readonly changed: boolean;
  /** Previous config text, to restore on rollback; undefined if there was none. */
  readonly previous?: string;
}

export async function installApacheConfig(ctx: StepContext, spec: AppUnitSpec): Promise<ConfigChange> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const text = apacheConfigOf(spec);
  const target = apacheConfigPath(spec);
  const current = await session.runRaw(place, "read Apache config", commandLine(["cat", target]));
  const previous = current.code === 0 ? current.stdout : undefined;
  if (previous === text) return { changed: false, previous };

  if (host.apache.mode === "managed") {
    await session.run(place, "write Apache snippet", commandLine(["mkdir", "-p", path.posix.dirname(target)]));
    await session.writeFileAtomic(place, "write Apache snippet", target, text);
    progress.info(`Apache is managed by the hoster: send them this config (also written to ${target}):`);
    for (const line of text.trimEnd().split("\n")) progress.info(`  | ${line}`);
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

async function restoreConfig(ctx: StepContext, target: string, previous: string | undefined): Promise<void> {
  if (previous === undefined) await ctx.session.runRaw(ctx.place, "restore Apache config", commandLine(["rm", "-f", target]));
  else await ctx.session.writeFileAtomic(ctx.place, "restore Apache config", target, previous);
}

async function rollBack(ctx: StepContext, spec: AppUnitSpec, previousDir: string | undefined, config: ConfigChange): Promise<void> {
  const host = spec.host;
  const appLink = abs(host, spec.appDir);
  await ctx.progress.step("roll back", async () => {
    if (previousDir !== undefined) await ctx.session.run(ctx.place, "roll back", switchSymlinkScript(appLink, previousDir, `${appLink}.before-webshare-${Date.now()}`));
    if (config.changed && host.apache.mode === "self") {
      await restoreConfig(ctx, apacheConfigPath(spec), config.previous);
      await ctx.session.runRaw(ctx.place, "reload Apache", commandLine(host.apache.reloadCommand));
    }
    await ctx.session.run(ctx.place, "touch entry point", touchExistingScript([abs(host, spec.entryPoint)]));
  }, () => (previousDir ? `(back to ${path.posix.basename(previousDir)})` : "(no previous release)"));
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
