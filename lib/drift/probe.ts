import { commandLine } from "../shell";
import { errors, Place } from "../errors";
import type { RemoteSession } from "../ssh/remote-session";
import { READ_RECORDS_FN, RecordFile } from "../lifecycle/inventory";
import { SHA256_PY } from "../lifecycle/release-seed";
import { LOCAL_DISTS_PY } from "../lifecycle/freeze-record";

/**
 * What is really on a host, read in ONE round trip for all of a host's units: a Python
 * script run by the host's interpreter reads the request (paths only) from stdin and
 * prints JSON. For each venv it starts that venv's OWN interpreter (in parallel) to list
 * what it can import, so a venv whose Python is gone shows as broken, and freeze.txt is
 * read separately as the record, never trusted as the live state. For each app it hashes
 * every file of the live release and of each kept release it is asked for (the ready ones
 * `webshare rollback` may switch to), and reads the installed Apache config.
 */
export interface VenvProbeRequest {
  readonly id: string;
  /** Absolute path of the venv link (what mod_wsgi's python-home names). */
  readonly venv: string;
  readonly freeze: string;
}

export interface AppProbeRequest {
  readonly id: string;
  readonly appDir: string;
  readonly config: string;
  /** The app's releases dir: its kept releases (every ready one but the live one) are hashed too. */
  readonly releasesDir?: string;
}

export interface ProbeRequest {
  readonly venvs: VenvProbeRequest[];
  readonly apps: AppProbeRequest[];
  /** The host's unit records directory: its records come back too (orphans: lifecycle/inventory.ts). */
  readonly records?: string;
}

export interface LivePackage {
  readonly name: string;
  readonly version: string;
  /** PEP 610 direct URL (`vcs+url@commit` for VCS installs), when it was not installed by name. */
  readonly url?: string;
  readonly editable?: boolean;
}

export type LiveVenv =
  | { readonly ok: true; readonly python: string; readonly packages: LivePackage[] }
  | { readonly ok: false; readonly error: string };

export interface VenvObservation {
  /** Link target as stored (readlink), or null when the path is not a symlink. */
  readonly link: string | null;
  readonly exists: boolean;
  /** freeze.txt content, or null when it is missing. */
  readonly recorded: string | null;
  /** Absent when the venv path does not exist. */
  readonly live?: LiveVenv;
}

export interface AppObservation {
  readonly link: string | null;
  readonly exists: boolean;
  /** Relative path -> sha256 of every regular file in the live release (symlinks followed). */
  readonly files: Record<string, string>;
  /** Installed Apache config text, or null when missing. */
  readonly config: string | null;
  /** Absolute real path of the live release (only when kept releases were asked for). */
  readonly releaseDir?: string;
  /** The kept releases that `webshare rollback` may switch to (only when asked for). */
  readonly kept?: KeptObservation[];
  /** The app's object store (lifecycle/release-seed.ts): its dir and the sha256 names in it, not hashed here. */
  readonly objects?: { readonly dir: string; readonly names: string[] };
}

/** A kept release: a ready content-addressed dir of the releases dir that is not the live one. */
export interface KeptObservation {
  readonly id: string;
  /** Absolute path on the host. */
  readonly dir: string;
  /** Its manifest (relative path -> sha256 deployed), or null when it has none or it is unreadable. */
  readonly manifest: Record<string, string> | null;
  /** Relative path -> sha256 of every regular file in it now. */
  readonly files: Record<string, string>;
}

export interface ProbeResult {
  readonly venvs: Record<string, VenvObservation>;
  readonly apps: Record<string, AppObservation>;
  readonly records?: RecordFile[];
}

/**
 * Run by each venv's own interpreter (-I: no PYTHONPATH, no user site, like mod_wsgi). It
 * imports nothing beyond what start-up already loaded (json and re alone would add about
 * half to its time, and it runs once per venv), and prints tab-separated lines: the Python
 * version, then name, version, direct URL, editable flag per distribution.
 */
const LIVE = String.raw`
import os, sys
${LOCAL_DISTS_PY}
# pip freeze leaves out its own tools (and, before Python 3.12, the build backends).
skip = {"pip"} | ({"setuptools", "wheel", "distribute"} if sys.version_info < (3, 12) else set())
found, _ = local_dists()
print("%d.%d.%d" % sys.version_info[:3])
for key, (name, version, info) in found.items():
    if key not in skip:
        direct = os.path.join(info, "direct_url.json")
        print("%s\t%s\t%s" % (name, version, direct if os.path.isfile(direct) else ""))
`;

const PROBE = String.raw`
import hashlib, json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
LIVE = sys.argv[1]
req = json.load(sys.stdin)

def link(path):
    return os.readlink(path) if os.path.islink(path) else None

def text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None

def package(line):
    name, version, direct = line.split("\t")
    item = {"name": name, "version": version}
    if direct:
        # PEP 610: how pip freeze writes it, "vcs+url@commit" for VCS installs.
        try:
            with open(direct, encoding="utf-8") as f:
                du = json.load(f)
            url, vcs = du.get("url", ""), du.get("vcs_info")
            item["url"] = "%s+%s@%s" % (vcs.get("vcs", ""), url, vcs.get("commit_id", "")) if vcs else url
            if du.get("dir_info", {}).get("editable"):
                item["editable"] = True
        except (OSError, ValueError, AttributeError):
            pass
    return item

def venv(v):
    out = {"link": link(v["venv"]), "exists": os.path.isdir(v["venv"]), "recorded": text(v["freeze"])}
    if out["exists"]:
        python = os.path.join(v["venv"], "bin", "python")
        try:
            r = subprocess.run([python, "-I", "-c", LIVE], capture_output=True, text=True, timeout=120)
            if r.returncode == 0:
                lines = r.stdout.splitlines()
                out["live"] = {"ok": True, "python": lines[0], "packages": sorted((package(l) for l in lines[1:]), key=lambda p: p["name"].lower())}
            else:
                out["live"] = {"ok": False, "error": ("exit %d: " % r.returncode) + (r.stderr or r.stdout).strip()[-800:]}
        except Exception as e:
            out["live"] = {"ok": False, "error": "%s: %s" % (python, e)}
    return v["id"], out

${SHA256_PY}

def tree(real):
    files = {}
    for dirpath, dirnames, names in os.walk(real):
        dirnames.sort()
        for n in sorted(names):
            full = os.path.join(dirpath, n)
            if os.path.isfile(full):
                try:
                    files[os.path.relpath(full, real).replace(os.sep, "/")] = sha256(full)
                except OSError:
                    pass
    return files

def manifest(d):
    try:
        with open(os.path.join(d, ".webshare-manifest.json"), encoding="utf-8") as f:
            m = json.load(f)
        return m if isinstance(m, dict) else None
    except (OSError, ValueError):
        return None

def app(a):
    root = a["appDir"]
    real = os.path.realpath(root)
    out = {"link": link(root), "exists": os.path.isdir(root), "files": tree(real) if os.path.isdir(root) else {}, "config": text(a["config"])}
    rd = a.get("releasesDir")
    if rd:
        out["releaseDir"] = real
        out["kept"] = []
        names = sorted(os.listdir(rd)) if os.path.isdir(rd) else []
        for n in names:
            d = os.path.join(rd, n)
            if len(n) != 16 or any(c not in "0123456789abcdef" for c in n) or os.path.islink(d) or not os.path.isdir(d):
                continue
            if os.path.realpath(d) == real or not os.path.exists(os.path.join(d, ".webshare-ready")):
                continue
            out["kept"].append({"id": n, "dir": d, "manifest": manifest(d), "files": tree(d)})
        store = os.path.join(rd, ".objects")
        if os.path.isdir(store):
            out["objects"] = {"dir": store, "names": sorted(n for n in os.listdir(store) if len(n) == 64)}
    return a["id"], out

with ThreadPoolExecutor(max_workers=max(2, 2 * (os.cpu_count() or 1))) as pool:
    venvs = dict(pool.map(venv, req["venvs"]))
apps = dict(app(a) for a in req["apps"])
out = {"venvs": venvs, "apps": apps}
if req.get("records"):
    scope = {}
    exec(sys.argv[2], scope)
    out["records"] = scope["read_records"](req["records"])
print(json.dumps(out))
`;

/** The probe as an argv: the request goes to its stdin as JSON, the result comes back on stdout. */
export function probeArgv(python: string): string[] {
  return [python, "-c", PROBE, LIVE, READ_RECORDS_FN];
}

/** Observe every requested venv and app of one host in one command. */
export async function probeHost(session: RemoteSession, place: Place, python: string, request: ProbeRequest): Promise<ProbeResult> {
  const result = await session.runRaw(place, "read the host's state", commandLine(probeArgv(python)), JSON.stringify(request));
  if (result.code !== 0) throw errors.remoteCommandFailed(place, "read the host's state", `${python} -c <drift probe>`, result.code, `${result.stdout}\n${result.stderr}`);
  try {
    return JSON.parse(result.stdout) as ProbeResult;
  } catch (e) {
    throw errors.remoteCommandFailed(place, "read the host's state", `${python} -c <drift probe>`, 0, `unexpected output (${(e as Error).message}):\n${result.stdout}`);
  }
}
