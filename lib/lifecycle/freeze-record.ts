import { commandLine } from "../shell";
import { pipFreezeCommand } from "./pip";

/**
 * What a venv has installed, read without pip: the listing the drift probe compares, and the
 * record (`.webshare-freeze.txt`) a venv build writes.
 *
 * `pip freeze` spends about 0.25 s importing pip (0.3-0.4 s on the bench's busy host) to
 * print what a 20 ms walk of site-packages prints for a venv of wheels installed by name.
 * The walk writes the freeze only where it is sure to match pip's output byte for byte:
 * every distribution is a `.dist-info` without a PEP 610 direct URL, with a version already
 * in PEP 440's normal form. Anything else (editable, URL or VCS installs, eggs, a name twice,
 * a build backend whose skipping depends on the pip release) exits `UNSURE`, and pip writes
 * the freeze as before. `test/e2e/freeze-record.test.ts` compares both on real venvs.
 */

/**
 * Python (needs `os` and `sys`): `local_dists()` returns `(found, odd)`. `found` maps each
 * distribution's normalized name to `(name, version, info path)`, in sys.path order (the first
 * of a name is the one imported), inside this venv only (pip's `--local`). `odd` is true when
 * pip would see more than that: a name twice or without a name, a name pip would read
 * otherwise (trailing blanks, a folded line, bytes that are not UTF-8), an egg, an egg-link.
 */
export const LOCAL_DISTS_PY = String.raw`
def dist_key(name):
    out = name.lower()
    for c in "_.":
        out = out.replace(c, "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out
def dist_header(path):
    # exact: the Name as pip reads it (an email header: leading blanks dropped, the rest
    # kept, a folded line joined) is this name, and the file decoded as UTF-8.
    name = version = None
    exact, after_name = True, False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                if after_name and line[0] in " \t":
                    exact = False
                after_name = False
                if name is None and line.startswith("Name:"):
                    raw = line[5:].lstrip(" \t").rstrip("\r\n")
                    name, after_name = raw.strip(), True
                    exact = exact and raw == name and "\ufffd" not in name
                elif version is None and line.startswith("Version:"):
                    version = line[8:].strip()
    except OSError:
        pass
    return name, version, exact
def local_dists():
    prefix = os.path.realpath(sys.prefix)
    found, seen, odd = {}, set(), False
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if not entry or real in seen or not os.path.isdir(real) or not (real + os.sep).startswith(prefix + os.sep):
            continue
        seen.add(real)
        odd = odd or real.endswith(".egg")
        for child in sorted(os.listdir(real)):
            odd = odd or child.endswith(".egg-link")
            if not child.endswith((".dist-info", ".egg-info")):
                continue
            info = os.path.join(real, child)
            meta = os.path.join(info, "METADATA" if child.endswith(".dist-info") else "PKG-INFO") if os.path.isdir(info) else info
            name, version, exact = dist_header(meta)
            if not name or dist_key(name) in found:
                odd = True
                continue
            odd = odd or not exact
            found[dist_key(name)] = (name, version or "", info)
    return found, odd
`;

/** The exit code of the walk when only pip can say what its freeze would print. */
export const FREEZE_UNSURE = 3;

/**
 * pip freeze's skips: its own tools always, the build backends before Python 3.12 (pip 23.0
 * skips them on every Python, 23.2 and later only before 3.12; 23.0 also skips
 * pkg-resources, 24 does not: those cases go to pip). A version is printed as pip prints it
 * (normalized), so one not in normal form goes to pip too.
 */
const FREEZE_PY = `import os, re, sys
${LOCAL_DISTS_PY}
found, odd = local_dists()
normal = re.compile(r"([1-9][0-9]*!)?(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?(\\.post(0|[1-9][0-9]*))?(\\.dev(0|[1-9][0-9]*))?(\\+([0-9]*[a-z][a-z0-9]*|0|[1-9][0-9]*)(\\.([0-9]*[a-z][a-z0-9]*|0|[1-9][0-9]*))*)?")
lines = []
for key, (name, version, info) in found.items():
    if key in ("pip", "python", "wsgiref", "argparse") or (key in ("setuptools", "wheel", "distribute") and sys.version_info < (3, 12)):
        continue
    if odd or key in ("setuptools", "wheel", "distribute", "pkg-resources") or not info.endswith(".dist-info") or os.path.exists(os.path.join(info, "direct_url.json")) or not normal.fullmatch(version):
        sys.exit(${FREEZE_UNSURE})
    lines.append((name.lower(), name + "==" + version))
sys.stdout.write("".join(line + "\\n" for _, line in sorted(lines)))
`;

/** The walk alone, as an argv (-I: no PYTHONPATH or user site, as mod_wsgi runs the venv). */
export function fastFreezeArgv(python: string): string[] {
  return [python, "-I", "-c", FREEZE_PY];
}

/**
 * Shell text printing `pip freeze --local` of the venv whose interpreter is `python`: the
 * walk, and pip when the walk is unsure or fails (pip then names any real problem).
 */
export function freezeScript(python: string): string {
  return `{ ${commandLine(fastFreezeArgv(python))} || ${commandLine(pipFreezeCommand(python))}; }`;
}
