import * as path from "node:path";
import type { DaemonSpec } from "../spec";

/**
 * Renders the Apache + mod_wsgi configuration of one app (daemon mode). Pure: spec in,
 * text out. python-home is the venv ROOT (the symlink that deploys switch), never a
 * python binary; python-path is the app directory.
 */
export interface ApacheConfigSpec {
  readonly unit: string;
  readonly home: string;
  readonly appDir: string;
  readonly entryPoint: string;
  readonly venvPath: string;
  readonly mount: string;
  /** URL path -> directory relative to the app directory. */
  readonly staticDirs: Readonly<Record<string, string>>;
  readonly daemon: DaemonSpec;
  /**
   * Managed mode: the hoster's root Apache applies the snippet verbatim, so without
   * `daemon.user` the daemon runs as `deployUser` (group: `daemon.group`, else the user's
   * name, the user-private-group convention). `deployUser` absent = not known at synth (an
   * ssh config alias gives it): a comment asks the hoster to fill it in. Absent = self-managed
   * (Apache runs as the user and cannot switch).
   */
  readonly managed?: { readonly deployUser?: string };
}

/** Apache argument quoting: double quotes; validated inputs never contain `"` or `\`. */
function arg(value: string): string {
  if (/["\\\r\n]/.test(value)) throw new Error(`value not allowed in Apache config: ${JSON.stringify(value)}`);
  return /[\s#]/.test(value) || value === "" ? `"${value}"` : value;
}

export function renderApacheConfig(spec: ApacheConfigSpec): string {
  const abs = (relative: string) => path.posix.join(spec.home, relative);
  const appDir = abs(spec.appDir);
  const d = spec.daemon;
  const runAs = d.user === undefined && spec.managed?.deployUser !== undefined ? { user: spec.managed.deployUser, group: d.group ?? spec.managed.deployUser } : { user: d.user, group: d.group };
  const daemonOptions = [
    `python-home=${abs(spec.venvPath)}`,
    `python-path=${appDir}`,
    `processes=${d.processes}`,
    `threads=${d.threads}`,
    ...(d.maximumRequests !== undefined ? [`maximum-requests=${d.maximumRequests}`] : []),
    ...(d.startupTimeout !== undefined ? [`startup-timeout=${d.startupTimeout}`] : []),
    ...(d.requestTimeout !== undefined ? [`request-timeout=${d.requestTimeout}`] : []),
    ...(d.gracefulTimeout !== undefined ? [`graceful-timeout=${d.gracefulTimeout}`] : []),
    `display-name=${d.displayName ?? "%{GROUP}"}`,
    ...(d.lang !== undefined ? [`lang=${d.lang}`] : []),
    ...(d.locale !== undefined ? [`locale=${d.locale}`] : []),
    ...(runAs.user !== undefined ? [`user=${runAs.user}`] : []),
    ...(runAs.group !== undefined ? [`group=${runAs.group}`] : []),
  ];
  const lines = [
    `# Managed by webshare-cdktf for ${spec.unit.replace(/[\r\n]/g, " ")}. Changes here are replaced on the next deploy.`,
    ...(spec.managed !== undefined && runAs.user === undefined
      ? [
          "# The deploy user is not known here (the ssh config gives it): add user=<deploy user> group=<its group>",
          "# to WSGIDaemonProcess below, so the app runs as the user that owns its files.",
        ]
      : []),
    `WSGIDaemonProcess ${arg(d.name)} ${daemonOptions.map(arg).join(" ")}`,
  ];
  for (const urlPath of Object.keys(spec.staticDirs).sort()) {
    const dir = path.posix.join(appDir, spec.staticDirs[urlPath]);
    lines.push(
      "",
      `Alias ${arg(urlPath)} ${arg(dir)}`,
      `<Directory ${arg(dir)}>`,
      "    Require all granted",
      "</Directory>",
    );
  }
  lines.push(
    "",
    `WSGIScriptAlias ${arg(spec.mount)} ${arg(abs(spec.entryPoint))} process-group=${arg(d.name)} application-group=%{GLOBAL}`,
    `<Directory ${arg(appDir)}>`,
    "    Require all granted",
    "</Directory>",
    "",
  );
  return lines.join("\n");
}
