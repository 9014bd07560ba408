import { allOf, Argv, commandLine, quote } from "../shell";
import { contentId } from "../hash";
import { majorMinor } from "../python-compat";

/**
 * The pip seed: `python -m venv` spends most of its 3-5 s in ensurepip (install pip, then
 * byte-compile it). So once per interpreter and venvs dir a normal venv is built as the seed
 * (`<venvsDir>/.pip-seed-<id>`, marked ready only after it succeeded), and every new venv is
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

/** Printed by `seededVenvScript` when it had to build the seed first. */
export const SEED_BUILT = "webshare: built the pip seed";

/** The seed dir for an interpreter: dot-named, so prune (16-hex names) and listings skip it. */
export function pipSeedDir(venvsDir: string, python: SeedInterpreter): string {
  return `${venvsDir}/.pip-seed-${contentId([python.version, python.libpython ?? python.executable])}`;
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
 * Shell text: build the seed unless it is ready (prints SEED_BUILT when it built it), then
 * create `venvDir` without pip, hard-link the seed's `lib/` into it and write its pip
 * scripts. `venvDir` must not exist yet.
 */
export function seededVenvScript(hostPython: string, seed: string, venvDir: string, scripts: readonly string[]): string {
  return [buildSeedScript(hostPython, seed), allOf(linkFromSeed(hostPython, seed, venvDir)), ...copyScripts(seed, venvDir, scripts)].join(" && ");
}

/**
 * Shell text: unless the seed is ready, build it in a directory of this shell's own
 * (`<seed>.build-<pid>`) and rename it into place once complete. A build left running by a
 * dropped connection can then never mark a half-built seed ready, or delete one another
 * build finished. Only `lib/` and the pip scripts' bodies are used from the seed, and
 * neither names the seed's path, so the rename is safe.
 */
export function buildSeedScript(hostPython: string, seed: string): string {
  const building = `${quote(`${seed}.build-`)}$$`;
  const ready = quote(seedReadyFile(seed));
  return (
    `{ [ -f ${ready} ] || { ` +
    `rm -rf ${building} && ${commandLine([hostPython, "-m", "venv"])} ${building} && touch ${building}/.webshare-ready && ` +
    `{ if [ -f ${ready} ]; then rm -rf ${building}; else ${commandLine(["rm", "-rf", seed])} && mv -T ${building} ${quote(seed)}; fi; } && ` +
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