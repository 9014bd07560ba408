import { commandLine } from "../shell";
import { checkInterpreterMatchesModWsgi, InterpreterInfo, ModWsgiInfo } from "../python-compat";
import { errors, WebshareError } from "../errors";
import type { HostSpec } from "../spec";
import type { StepContext } from "./context";

/**
 * Reads, on the host, which Python the configured interpreter is and which libpython
 * mod_wsgi links to (via ldd on mod_wsgi.so), in one round trip. The decision is pure
 * (lib/python-compat.ts).
 */
const PROBE = `
import json, os, subprocess, sys, sysconfig
lib = None
libdir, soname = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and soname and os.path.exists(os.path.join(libdir, soname)):
    lib = os.path.realpath(os.path.join(libdir, soname))
out = {"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "basePrefix": sys.base_prefix, "libpython": lib, "modWsgi": None}
for module in sys.argv[1:]:
    if os.path.exists(module):
        info = {"module": module, "libpython": None}
        try:
            text = subprocess.run(["ldd", module], capture_output=True, text=True, timeout=30).stdout
        except Exception as e:
            text = ""
            info["error"] = str(e)
        for line in text.splitlines():
            if "libpython" in line and "=>" in line:
                target = line.split("=>", 1)[1].strip().split(" (")[0].strip()
                if os.path.exists(target):
                    info["libpython"] = os.path.realpath(target)
        out["modWsgi"] = info
        break
print(json.dumps(out))
`;

export interface ProbeResult extends InterpreterInfo {
  readonly modWsgi: (ModWsgiInfo & { error?: string }) | null;
}

export async function probePython(ctx: StepContext, host: HostSpec): Promise<ProbeResult> {
  return parseProbe(ctx, host, await ctx.session.runRaw(ctx.place, "check Python", probeScript(host)));
}

/** Shell text printing the probe's JSON line (a command of its own, or the head of a longer script). */
export function probeScript(host: HostSpec): string {
  return commandLine([host.python, "-c", PROBE, ...host.modWsgiModules]);
}

/** What probeScript printed; a probe that did not run names the interpreter. */
export function parseProbe(ctx: StepContext, host: HostSpec, result: { code: number; stdout: string; stderr: string }): ProbeResult {
  if (result.code !== 0) {
    throw new WebshareError(
      `${ctx.place.unit} on ${ctx.place.target}: cannot run the configured Python ${host.python} (exit ${result.code})`,
      "set the WebshareHost's python to an interpreter that exists on the host (the one mod_wsgi runs)",
      result.stderr.trim(),
    );
  }
  const raw = JSON.parse(result.stdout) as ProbeResult & { libpython: string | null };
  return { ...raw, libpython: raw.libpython ?? undefined, modWsgi: raw.modWsgi ? { ...raw.modWsgi, libpython: raw.modWsgi.libpython ?? undefined } : null };
}

/** Refuse to build when the interpreter is not the Python mod_wsgi runs. */
export function assertMatchesModWsgi(ctx: StepContext, host: HostSpec, probe: ProbeResult): void {
  if (host.modWsgiModules.length === 0) return; // explicitly turned off
  if (probe.modWsgi === null) throw errors.modWsgiNotFound(ctx.place, host.modWsgiModules);
  const verdict = checkInterpreterMatchesModWsgi(probe, probe.modWsgi);
  if (!verdict.ok) throw errors.pythonMismatch(ctx.place, verdict.reason);
}
