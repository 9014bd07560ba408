import { randomBytes } from "node:crypto";
import type { VenvUnitSpec } from "../spec";
import { allOf, commandLine } from "../shell";
import { abs, StepContext } from "../lifecycle/context";
import { pipCommand, pipSourceArgs, uploadWheelhouse } from "../lifecycle/pip";
import { plural } from "../plural";
import { probePython } from "../lifecycle/python-probe";
import { hostSeedsDir, linkFromSeed, pipSeedDir, seedReadyFile } from "../lifecycle/pip-seed";

const SEED_USED = "webshare: pip linked from the seed";

/**
 * Resolve loose requirements into exact versions with the host's own Python and package
 * sources, so the lock pins what that host can and will install. It builds a throwaway venv
 * under the state dir (~/.webshare/tmp/lock-*), installs, records `pip freeze --local` and
 * removes it in the same command; the live venv and its files are never touched. Its pip
 * comes from the host's pip seed (lifecycle/pip-seed.ts) when a deploy has built one.
 */
export interface Resolution {
  /** `pip freeze --local` of the throwaway venv. */
  readonly freeze: string;
  /** X.Y.Z of the interpreter that resolved it. */
  readonly python: string;
}

const VERSION = "import sys; print('%d.%d.%d' % sys.version_info[:3])";

export async function resolveOnHost(ctx: StepContext, spec: VenvUnitSpec, requirementsText: string): Promise<Resolution> {
  const { session, place, progress } = ctx;
  const host = spec.host;
  const tmpRoot = abs(host, `${host.stateDir}/tmp`);
  const tmp = `${tmpRoot}/lock-${randomBytes(6).toString("hex")}`;
  const wheelhouse = await uploadWheelhouse(ctx, spec);
  // Leftovers of runs whose connection dropped are removed after a day.
  await session.run(place, "prepare", `${commandLine(["mkdir", "-p", tmp])} && ${commandLine(["find", tmpRoot, "-mindepth", "1", "-maxdepth", "1", "-name", "lock-*", "-mmin", "+1440", "-exec", "rm", "-rf", "{}", "+"])}`);
  const requirements = `${tmp}/requirements.txt`;
  await session.writeFileAtomic(place, "upload requirements", requirements, requirementsText);

  const venv = `${tmp}/venv`;
  const python = `${venv}/bin/python`;
  const pip = pipCommand(python);
  const source = pipSourceArgs(spec, wheelhouse);
  // The host's pip seed, if a deploy built one for this Python, saves ensurepip's seconds. It is
  // only read (a ready seed is never changed or rebuilt); if it is missing or cannot be linked
  // (another filesystem), a plain venv is built.
  const seed = pipSeedDir(hostSeedsDir(host), await probePython(ctx, host));
  const linkSeed = allOf([["test", "-f", seedReadyFile(seed)], ...linkFromSeed(host.python, seed, venv)]);
  const steps = [
    `if { ${linkSeed}; } 2>/dev/null; then ${commandLine(["echo", SEED_USED])}; else ${allOf([["rm", "-rf", venv], [host.python, "-m", "venv", venv]])}; fi`,
    ...(spec.upgradePip ? [`${commandLine([...pip, "install", "--upgrade", ...source, "pip", "setuptools", "wheel"])} 1>&2`] : []),
    // pip's own progress goes to stderr, so stdout is the version line and the freeze.
    `${commandLine([...pip, "install", ...source, "-r", requirements])} 1>&2`,
    commandLine([python, "-c", VERSION]),
    commandLine([...pip, "freeze", "--local"]),
  ];
  const script = `{ ${steps.join(" && ")}; }; rc=$?; ${commandLine(["rm", "-rf", tmp])}; exit $rc`;
  const result = await progress.step("resolve on the host", async () => {
    const lines = (await session.run(place, "resolve requirements", script)).stdout.split("\n");
    const seeded = lines[0] === SEED_USED;
    const [version = "", ...freeze] = seeded ? lines.slice(1) : lines;
    return { python: version.trim(), freeze: freeze.join("\n"), seeded };
  }, (r) => `(${plural(r.freeze.split("\n").filter((l) => l.trim() !== "").length, "package")} pinned by ${host.python} ${r.python}${r.seeded ? "; pip linked from the seed" : ""})`);
  return { python: result.python, freeze: result.freeze };
}
