import * as path from "node:path";
import { allOf, Argv, commandLine, quote } from "../shell";
import { contentId } from "../hash";
import { majorMinor } from "../python-compat";
import type { HostSpec } from "../spec";
import { abs, unitRecordPath } from "./context";

/**
 * The pip seed: `python -m venv` spends most of its 3-5 s in ensurepip (install pip, then
 * byte-compile it). So once per host home and interpreter a normal venv is built as the seed
 * (`<stateDir>/.pip-seed-<id>`, marked ready only after it succeeded; every Venv of the host
 * links from the same one, see seedsDir), and every new venv is
 * `python -m venv --without-pip` plus hard links to the seed's `lib/` and copies of its pip
 * scripts with the shebang rewritten. Sharing inodes is safe because pip never writes an
 * installed file in place (install unlinks before writing, uninstall and upgrade move files
 * away, byte-compiling writes a temp file and renames it): checked by hand with an upgrade,
 * a forced downgrade of pip and `compileall -f` in a seeded venv, the seed unchanged after.
 */

/** The interpreter a seed belongs to: the same key the venv ids use. */
export interface SeedInterpreter {
  readonly version: string;
  readonly libpython?: string;
  readonly executable: string;
}

/**
 * Builds a seed at argv[1] with the host's Python: what `python -m venv` makes, without
 * ensurepip's `pip install` of its bundled wheels (most of its 3-5 s: pip's start-up, the
 * unpack and a one-by-one byte-compile). Instead: a venv without pip, the very wheels
 * ensurepip would install (pip at `ensurepip.version()`; setuptools beside it below Python
 * 3.12, as ensurepip does) unpacked into its site-packages, pip's three console scripts, and
 * one parallel `compileall`. Wheels are looked for where ensurepip keeps them (its
 * `_bundled` dir, a distro's `_WHEEL_PKG_DIR`, Debian's /usr/share/python-wheels); when there
 * are none, it is `python -m venv` after all.
 */
const SEED_PY = `import ensurepip, glob, os, shutil, subprocess, sys, zipfile
seed = sys.argv[1]
subprocess.check_call([sys.executable, "-m", "venv", "--without-pip", seed])
dirs = [os.path.join(os.path.dirname(ensurepip.__file__), "_bundled"), getattr(ensurepip, "_WHEEL_PKG_DIR", None) or "", "/usr/share/python-wheels"]
def wheel(name, version=None):
    for d in dirs:
        found = sorted(glob.glob(os.path.join(d, "%s-%s-py*.whl" % (name, version or "*"))))
        if found:
            return found[-1]
pip = wheel("pip", ensurepip.version())
tools = wheel("setuptools") if sys.version_info < (3, 12) else None
if pip is None or (sys.version_info < (3, 12) and tools is None):
    shutil.rmtree(seed)
    subprocess.check_call([sys.executable, "-m", "venv", seed])
    sys.exit(0)
python = os.path.join(seed, "bin", "python")
lib = subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).decode().strip()
for w in [pip, tools]:
    if w is not None:
        with zipfile.ZipFile(w) as z:
            z.extractall(lib)
for info in glob.glob(os.path.join(lib, "*.dist-info")):
    for name, text in [("INSTALLER", "pip\\n"), ("REQUESTED", "")]:
        with open(os.path.join(info, name), "w") as f:
            f.write(text)
for name in ["pip", "pip3", "pip%d.%d" % sys.version_info[:2]]:
    with open(os.path.join(seed, "bin", name), "w") as f:
        f.write("#!%s\\nimport re\\nimport sys\\nfrom pip._internal.cli.main import main\\nif __name__ == '__main__':\\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\\n    sys.exit(main())\\n" % python)
    os.chmod(os.path.join(seed, "bin", name), 0o755)
subprocess.call([python, "-m", "compileall", "-q", "-j0", lib], stdout=subprocess.DEVNULL)
`;

/** Printed by `seededVenvScript` when it had to build the seed first. */
export const SEED_BUILT = "webshare: built the pip seed";

/**
 * Where a host's seeds live: its state dir (absolute), not a Venv's venvs dir, so one seed
 * serves every Venv of the host and no unit owns it: prune (16-hex names in a venvs dir),
 * destroy and the inventory (a unit's recorded paths) never reach it. `removeSeedsScript`
 * removes them once the host has no venv unit left.
 */
export function pipSeedDir(seedsDir: string, python: SeedInterpreter): string {
  return `${seedsDir}/.pip-seed-${contentId([python.version, python.libpython ?? python.executable])}`;
}

/** The seeds dir of a host: its state dir. */
export function hostSeedsDir(host: HostSpec): string {
  return abs(host, host.stateDir);
}

/** The dir of a host's unit records (lifecycle/context.ts unitRecordPath). */
export function hostUnitsDir(host: HostSpec): string {
  return path.posix.dirname(unitRecordPath(host, "x"));
}

/**
 * Shell text: remove the seeds in `seedsDir` when no unit record in `unitsDir` is a venv's
 * (records are written by JSON.stringify(…, null, 2)) and no unit lock in `locksDir` is held
 * but `ownLocks` (this run's). Run after a venv unit is removed (destroy, inventory), under
 * the host lock. A venv is created from a ready seed without the host lock (lifecycle/venv.ts,
 * the build in one exchange), but always under its unit's lock, held from the unit's first
 * command to its last: so no venv links from a seed while it is removed. Venvs built from a
 * seed keep their own hard links, so removing it takes nothing from them.
 */
export function removeSeedsScript(seedsDir: string, unitsDir: string, locksDir: string, ownLocks: readonly string[]): string {
  const own = ownLocks.map((l) => `[ "$l" = ${quote(l)} ] || `).join("");
  return (
    `( held=; for l in ${quote(locksDir)}/*; do [ -d "$l" ] && { ${own}held=1; }; done; ` +
    `if [ -z "$held" ] && ! grep -qsl ${quote('"kind": "venv"')} ${quote(unitsDir)}/*.json; then ` +
    `${commandLine(["find", seedsDir, "-maxdepth", "1", "-name", ".pip-seed-*", "-exec", "rm", "-rf", "{}", "+"])} 2>/dev/null; fi; true )`
  );
}

/** Shell text printing the name of every ready seed in `seedsDir`, one per line. */
export function readySeedsScript(seedsDir: string): string {
  return `for s in ${quote(seedsDir)}/.pip-seed-*; do [ -f "$s"/.webshare-ready ] && printf '%s\n' "\${s##*/}"; done; true`;
}

/** The console scripts ensurepip installs: pip, pip3, pip3.X. */
export function pipScriptNames(version: string): string[] {
  return ["pip", "pip3", `pip${majorMinor(version)}`];
}

/**
 * The first line(s) of a script run by `python`, as pip writes them: `#!python` when the
 * kernel can run that (no whitespace, short enough), else a line pair that /bin/sh runs as
 * `exec python "$0" "$@"` and Python reads as a string literal.
 */
export function scriptHeader(python: string): string {
  const simple = !/\s/.test(python) && Buffer.byteLength(python) + 3 <= 127;
  return simple ? `#!${python}` : `#!/bin/sh\n'''exec' ${quote(python)} "$0" "$@"\n' '''`;
}

/** sed: drop a script's header, either form above (one line, or the three of the /bin/sh one). */
const DROP_HEADER = "1{/^#!\\/bin\\/sh$/{N;N;d;};d;}";

/** The marker a seed gets only once it is complete; a seed without it is built again. */
export function seedReadyFile(seed: string): string {
  return `${seed}/.webshare-ready`;
}

/** Commands: a venv without pip at `venvDir` (must not exist), with the seed's `lib/` hard-linked in. */
export function linkFromSeed(hostPython: string, seed: string, venvDir: string): Argv[] {
  return [[hostPython, "-m", "venv", "--without-pip", venvDir], ["cp", "-al", `${seed}/lib/.`, `${venvDir}/lib/`]];
}

/**
 * Shell text: linkFromSeed, and when the hard links fail (the state dir on another
 * filesystem than the venvs dir) a copy of the seed's `lib/` instead: a fresh dir, so no
 * copy ever writes into a linked inode.
 */
export function linkOrCopyFromSeed(hostPython: string, seed: string, venvDir: string): string {
  const [venv, link] = linkFromSeed(hostPython, seed, venvDir);
  const lib = `${venvDir}/lib`;
  return `${commandLine(venv)} && { ${commandLine(link)} 2>/dev/null || { ${allOf([["rm", "-rf", lib], ["cp", "-a", `${seed}/lib`, lib]])}; }; }`;
}

/**
 * Shell text: build the seed unless it is ready (prints SEED_BUILT when it built it), then
 * create `venvDir` without pip, hard-link the seed's `lib/` into it and write its pip
 * scripts. `venvDir` must not exist yet.
 */
export function seededVenvScript(hostPython: string, seed: string, venvDir: string, scripts: readonly string[]): string {
  return [buildSeedScript(hostPython, seed), linkOrCopyFromSeed(hostPython, seed, venvDir), ...copyScripts(seed, venvDir, scripts)].join(" && ");
}

/**
 * Shell text: unless the seed is ready, build it in a directory of this shell's own
 * (`<seed>.build-<pid>`) and rename it into place once complete. A build left running by a
 * dropped connection can then never mark a half-built seed ready, or delete one another
 * build finished. The rename fails when the seed exists (rename(2) onto a non-empty dir), so
 * a build that lost the race to another one drops its own copy and the finished seed, which
 * venvs may be linking from, is never removed; only a seed without the ready mark (left by
 * an older version that built in place) is replaced. Only `lib/` and the pip scripts'
 * bodies are used from the seed, and neither names the seed's path, so the rename is safe.
 */
export function buildSeedScript(hostPython: string, seed: string): string {
  const building = `${quote(`${seed}.build-`)}$$`;
  const ready = quote(seedReadyFile(seed));
  const renameIn = `mv -T ${building} ${quote(seed)} 2>/dev/null`;
  return (
    `{ [ -f ${ready} ] || { ` +
    `${commandLine(["mkdir", "-p", path.posix.dirname(seed)])} && rm -rf ${building} && ${commandLine([hostPython, "-c", SEED_PY])} ${building} && touch ${building}/.webshare-ready && ` +
    `{ ${renameIn} || if [ -f ${ready} ]; then rm -rf ${building}; else ${commandLine(["rm", "-rf", seed])} && mv -T ${building} ${quote(seed)}; fi; } && ` +
    `${commandLine(["echo", SEED_BUILT])}; }; }`
  );
}

function copyScripts(seed: string, venvDir: string, scripts: readonly string[]): string[] {
  const header = scriptHeader(`${venvDir}/bin/python`);
  return scripts.map((name) => {
    const target = `${venvDir}/bin/${name}`;
    return `{ ${commandLine(["printf", "%s\\n", header])} && ${commandLine(["sed", "-e", DROP_HEADER, `${seed}/bin/${name}`])}; } > ${quote(target)} && ${commandLine(["chmod", "755", target])}`;
  });
}