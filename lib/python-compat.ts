/**
 * Does an interpreter match the Python that mod_wsgi was built against? mod_wsgi loads
 * libpython into Apache, so a venv only works when it comes from that same installation:
 * same X.Y and the same shared library (a debug or static build differs). Pure.
 */
export interface InterpreterInfo {
  readonly executable: string;
  /** e.g. "3.11.2" */
  readonly version: string;
  readonly basePrefix: string;
  /** Real path of the shared libpython this interpreter uses, if it has one. */
  readonly libpython?: string;
}

export interface ModWsgiInfo {
  readonly module: string;
  /** Real path of the libpython mod_wsgi links to, if it could be read. */
  readonly libpython?: string;
}

export type PythonCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** "3.11" from ".../libpython3.11.so.1.0" or ".../libpython3.11d.so". */
export function libpythonVersion(libPath: string): string | undefined {
  return /libpython(\d+\.\d+)[a-z]*\.so/.exec(libPath)?.[1];
}

export function majorMinor(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

export function checkInterpreterMatchesModWsgi(interp: InterpreterInfo, modWsgi: ModWsgiInfo): PythonCheck {
  if (modWsgi.libpython === undefined) {
    return { ok: false, reason: `could not read which libpython ${modWsgi.module} links to (ldd found none)` };
  }
  const wanted = libpythonVersion(modWsgi.libpython);
  const got = majorMinor(interp.version);
  if (wanted !== undefined && wanted !== got) {
    return {
      ok: false,
      reason: `${interp.executable} is Python ${interp.version}, but mod_wsgi (${modWsgi.module}) runs Python ${wanted} from ${modWsgi.libpython}`,
    };
  }
  if (interp.libpython === undefined) {
    return {
      ok: false,
      reason: `${interp.executable} (Python ${interp.version}, prefix ${interp.basePrefix}) has no shared libpython, so it is another build than mod_wsgi's ${modWsgi.libpython}`,
    };
  }
  if (interp.libpython !== modWsgi.libpython) {
    return {
      ok: false,
      reason: `${interp.executable} (Python ${interp.version}) uses ${interp.libpython}, but mod_wsgi (${modWsgi.module}) runs ${modWsgi.libpython}: another build of Python`,
    };
  }
  return { ok: true };
}
