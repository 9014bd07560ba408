import * as fs from "node:fs";
import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { allOf, commandLine } from "../shell";
import { errors } from "../errors";
import { listSome, plural } from "../plural";
import { entryPointName } from "../render/unit-files";
import type { UploadFile } from "../ssh/remote-session";
import { abs, type StepContext, stepFailed } from "./context";
import { linkNamesScript } from "./switch";
import type { AppInputs } from "./as-planned";
import { appPrivacy, fileMode } from "./modes";
import { importCheckDetail, importCheckError, importCheckOf } from "./import-check";
import { databaseYmlWrite, secretWrites } from "./secrets";
import { sharedPathsScript } from "./shared-paths";
import { carriedOver, objectStore, parseSeedOutput, SEED_INCOMPLETE, seedReleaseScript, type SeedResult } from "./release-seed";
import { parseStaged, type Stage, type StagedResult, stagedScript, type StageOutput } from "./staged-script";

/**
 * An app's release, built before the switch in ONE exchange with the host (one round trip
 * through the command agent):
 * - first, the new release dir is made (fresh, 0700 while it is built) with every dir its
 *   files need, and the dirs of the secret files that changed;
 * - then the changed files, the generated entry point and manifest, and database.yml and
 *   the secret files whose content differs (atomic, 0600) are written;
 * - then, as stages of one command (lifecycle/staged-script.ts): the seed copies the
 *   unchanged files into the release (lifecycle/release-seed.ts), the shared paths are
 *   linked (lifecycle/shared-paths.ts), and the import check runs (lifecycle/import-check.ts).
 *
 * Each step still prints its own line and names itself in its error. The one case that
 * costs a second exchange: a file the seed cannot copy with its deployed content (the live
 * copy was edited on the host and the store lacks it) is uploaded, then the stages after
 * the seed run. A release already on the host (reused) gets only the writes and stages.
 */

export const MANIFEST = ".webshare-manifest.json";

/** Where the release goes (app.ts's ReleaseTarget fits). */
export interface BuildTarget {
  readonly releaseId: string;
  readonly releasesDir: string;
  readonly releaseDir: string;
  /** Relative path -> sha256 of everything the release holds (the entry point included). */
  readonly files: Record<string, string>;
}

/** What the host had, from the release state's read (app.ts's ReleaseState fits). */
export interface BuildState {
  readonly ready: boolean;
  readonly previousDir?: string;
  readonly previousId?: string;
  readonly previousManifest: Record<string, string>;
  readonly digests: ReadonlyMap<string, string>;
}

/** The upload of a new release: its fresh dir, the files to send, and the seed of the rest. */
interface ReleaseUpload {
  readonly fresh: string;
  readonly files: UploadFile[];
  /** Files sent because they changed (relative paths). */
  readonly changed: readonly string[];
  readonly seed?: { readonly script: string; readonly stdin: string };
  /** The live release's manifest, when the new one is seeded from it ({} otherwise). */
  readonly before: Record<string, string>;
}

/**
 * `options.then`: a step to run at the end of the same exchange once the build succeeded
 * (the switch, lifecycle/unit-switch.ts); what it printed is returned. Nothing to build
 * means no exchange, and `then` is not run (undefined).
 */
export async function buildRelease(ctx: StepContext, spec: AppUnitSpec, target: BuildTarget, state: BuildState, inputs: AppInputs, options: { forceRebuild?: boolean; then?: Stage }): Promise<StageOutput | undefined> {
  const { progress } = ctx;
  const entryPoint = entryPointName(spec);
  const upload = state.ready ? undefined : releaseUpload(spec, target, state, inputs, options);
  if (upload === undefined) progress.info(`release ${target.releaseId} already on the host: reusing it`);
  else if (spec.files[entryPoint] !== undefined) progress.info(`note: the source's own ${entryPoint} is replaced by the generated entry point`);
  const writes = [
    { name: "install database.yml", write: databaseYmlWrite(spec, inputs, state.digests) },
    { name: "install secrets", write: secretWrites(spec, inputs, state.digests) },
  ].flatMap(({ name, write }) => (write === undefined ? [] : [{ name, ...write }]));
  const check = importCheckOf(ctx, spec, target);
  const shared = spec.sharedPaths;
  const seedStage: Stage | undefined = upload?.seed === undefined ? undefined : { name: "upload app", script: upload.seed.script };
  const buildStages: Stage[] = [
    ...(shared !== undefined ? [{ name: "link shared paths", script: sharedPathsScript(spec, target.releaseDir) }] : []),
    ...(check !== undefined ? [{ name: "import check", script: check.script }] : []),
  ];
  const before = [...(upload !== undefined ? [upload.fresh] : []), ...writes.map((w) => w.dirs)];
  const files = [...(upload?.files ?? []), ...writes.flatMap((w) => w.files)];
  if (seedStage === undefined && buildStages.length === 0 && files.length === 0) return undefined;
  const then = options.then;
  const laterStages = then !== undefined ? [...buildStages, then] : buildStages;
  const stages = [...(seedStage !== undefined ? [seedStage] : []), ...laterStages];

  const { session, place } = ctx;
  const step = upload !== undefined ? "upload app" : (writes[0]?.name ?? stages[0]!.name);
  /** One exchange: the writes, then the stages; what each stage printed, and its failure. */
  const exchange = async (): Promise<{ seed?: SeedResult; done: StageOutput[]; failed?: { stage: Stage; code: number; output: string } }> => {
    const r = await session.runWithFiles(place, step, { ...(before.length > 0 && { before: before.join(" && ") }), files, script: stages.length > 0 ? stagedScript(stages) : "true", stdin: upload?.seed?.stdin });
    if (stages.length === 0) {
      if (r.code !== 0) throw await stepFailed(ctx, step, "true", r.code, `${r.stdout}\n${r.stderr}`);
      return { done: [] };
    }
    const staged = parseStaged(stages, r.stdout, r.code);
    if (seedStage === undefined) return { done: staged.done, ...failedWith(staged, r.stderr) };
    const seedOut = staged.done[0]?.stdout ?? (staged.failed?.stage === seedStage && staged.failed.code === SEED_INCOMPLETE ? staged.failed.stdout : undefined);
    if (seedOut === undefined) throw await stepFailed(ctx, "upload app", seedStage.script, staged.failed?.code ?? r.code, `${staged.failed?.stdout ?? r.stdout}\n${r.stderr}`);
    const seed = parseSeedOutput(seedOut);
    if (seed === undefined) throw errors.hostAnswerUnreadable(place, "the files copied into the new release", "not the JSON the seed prints", seedOut);
    if (staged.done.length > 0) return { seed, done: staged.done.slice(1), ...failedWith(staged, r.stderr) };
    // Files the seed could not copy with their deployed content: sent now, then the stages after it.
    await session.putFiles(place, "upload app", seed.upload.filter((f) => f !== entryPoint).map((f) => uploadEntry(spec, f, target.releaseDir)));
    if (laterStages.length === 0) return { seed, done: [] };
    const rest = await session.runWithFiles(place, laterStages[0]!.name, { files: [], script: stagedScript(laterStages) });
    const after = parseStaged(laterStages, rest.stdout, rest.code);
    return { seed, done: after.done, ...failedWith(after, rest.stderr) };
  };

  if (check !== undefined) ctx.abortScripts?.set(check.stop, "");
  let outcome: Awaited<ReturnType<typeof exchange>>;
  // A heartbeat names every step of the exchange: the one still running may be the import check.
  const status = () => `in one exchange: ${[...(upload !== undefined ? ["upload"] : []), ...writes.map((w) => w.name), ...stages.filter((st) => st !== seedStage).map((st) => st.name)].join(", ")}`;
  const beat = upload === undefined ? progress.heartbeat((buildStages.at(-1) ?? { name: step }).name, { status }) : undefined;
  try {
    outcome = upload === undefined ? await exchange() : await progress.long("upload app", () => cleanedUpOnFailure(ctx, abs(spec.host, spec.appDir), target.releaseDir, exchange), (o) => uploadDetail(target, upload, o.seed, entryPoint), { status });
  } finally {
    beat?.stop();
    if (check !== undefined) ctx.abortScripts?.delete(check.stop);
  }
  if (outcome.seed !== undefined && outcome.seed.edited.length > 0) {
    progress.info(`note: the live release ${state.previousId} differs on the host from what was deployed (${listSome(outcome.seed.edited)}): the new release gets the deployed content, and ${state.previousId} keeps the edits (webshare drift names it)`);
  }
  for (const w of writes) progress.ended(w.name, w.detail, undefined);
  // The build's stages after the seed, in order: their lines, then the first failure's error.
  buildStages.forEach((stage, i) => {
    const done = outcome.done[i];
    const failed = outcome.failed?.stage === stage ? outcome.failed : undefined;
    if (done === undefined && failed === undefined) return;
    if (stage.name === "import check") progress.ended(stage.name, importCheckDetail(check!, failed?.code ?? 0), done?.seconds);
    else if (failed !== undefined) progress.ended(stage.name, undefined, undefined, true);
    else progress.ended(stage.name, `(${shared!.paths.join(", ")} -> ${shared!.dir})`, done!.seconds);
  });
  const failed = outcome.failed;
  if (failed === undefined) return then !== undefined ? outcome.done[laterStages.length - 1] : undefined;
  if (failed.stage === then) progress.ended(then.name, undefined, undefined, true);
  if (failed.stage.name === "import check") throw importCheckError(ctx, check!, target, failed.code, failed.output);
  throw await stepFailed(ctx, failed.stage.name, failed.stage.script, failed.code, failed.output);
}

/** A staged command's failed stage with all it printed (its stdout, then the command's stderr), or nothing. */
function failedWith(result: StagedResult, stderr: string): { failed?: { stage: Stage; code: number; output: string } } {
  return result.failed === undefined ? {} : { failed: { ...result.failed, output: `${result.failed.stdout}${stderr}` } };
}

/** The new release's dir, what to send into it, and the seed of the files it keeps from the live one. */
function releaseUpload(spec: AppUnitSpec, target: BuildTarget, state: BuildState, inputs: AppInputs, options: { forceRebuild?: boolean }): ReleaseUpload {
  const { releaseDir, releasesDir, releaseId } = target;
  const entryPoint = entryPointName(spec);
  // Never seed from a drifted release (drift --fix): upload everything.
  const before = state.previousId !== undefined && state.previousId !== releaseId && !options.forceRebuild ? state.previousManifest : {};
  const carry = carriedOver(before, target.files, [entryPoint]);
  // 0700 while it is built: no other user reaches a file before its mode is final (at the switch).
  // Every dir a file of the release needs is made first, so the files all go in one transfer.
  const dirs = [...new Set(Object.keys(target.files).map((f) => path.posix.dirname(`${releaseDir}/${f}`)))].filter((d) => d !== releaseDir);
  const fresh = allOf([["mkdir", "-p", releasesDir], ["rm", "-rf", releaseDir], ["mkdir", "-p", releaseDir], ["chmod", "0700", releaseDir], ...(dirs.length > 0 ? [["mkdir", "-p", ...dirs]] : [])]);
  const changed = Object.keys(target.files).filter((f) => !(f in carry));
  // The changed files, the generated entry point and the manifest (the release dir is new and
  // not served, so in-place writes are safe; 0600 like before).
  const files: UploadFile[] = [
    ...changed.filter((f) => f !== entryPoint).map((f) => uploadEntry(spec, f, releaseDir)),
    { remote: `${releaseDir}/${entryPoint}`, content: inputs.entryPointText, mode: 0o600 },
    { remote: `${releaseDir}/${MANIFEST}`, content: JSON.stringify(target.files, null, 2) + "\n", mode: 0o600 },
  ];
  const seed = Object.keys(carry).length === 0 ? undefined : { script: seedReleaseScript(spec.host.python, state.previousDir!, releaseDir, objectStore(releasesDir), { stopWhenIncomplete: true }), stdin: JSON.stringify(carry) };
  return { fresh, files, changed, before, ...(seed !== undefined && { seed }) };
}

/** `(N files uploaded, R removed, release X)`: the entry point counts as uploaded only when it changed. */
function uploadDetail(target: BuildTarget, upload: ReleaseUpload, seed: SeedResult | undefined, entryPoint: string): string {
  const sent = new Set([...upload.changed, ...(seed?.upload ?? [])]);
  const uploaded = [...sent].filter((f) => f !== entryPoint || upload.before[f] !== target.files[f]).length;
  const removed = Object.keys(upload.before).filter((f) => !(f in target.files)).length;
  return `(${plural(uploaded, "file")} uploaded, ${removed} removed, release ${target.releaseId})`;
}

/**
 * A half-built release (a full disk, a dropped connection, a failed seed) is never left
 * behind, and a live one is never removed: the switch may ride at the end of the build's
 * exchange, so an exchange that failed as a whole (no answer) may have switched it in.
 */
async function cleanedUpOnFailure<T>(ctx: StepContext, appLink: string, releaseDir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    await ctx.session.runRaw(ctx.place, "clean up failed upload", `${linkNamesScript(appLink, releaseDir)} || ${commandLine(["rm", "-rf", releaseDir])}`).catch(() => undefined);
    throw e;
  }
}

/** One file to upload, with its mode on the host (lifecycle/modes.ts) from its local mode. */
function uploadEntry(spec: AppUnitSpec, relative: string, releaseDir: string): { local: string; remote: string; mode: number } {
  const local = path.resolve(spec.source, relative);
  return { local, remote: `${releaseDir}/${relative}`, mode: fileMode(fs.statSync(local).mode, relative, Object.values(spec.staticDirs), appPrivacy(spec)) };
}
