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
  const daemonOptions = [
    `python-home=${abs(spec.venvPath)}`,
    `python-path=${appDir}`,
    `processes=${d.processes}`,
    `threads=${d.threads}`,
    ...(d.maximumRequests !== undefined ? [`maximum-requests=${d.maximumRequests}`] : []),
    `display-name=${d.displayName ?? "%{GROUP}"}`,
    ...(d.user !== undefined ? [`user=${d.user}`] : []),
    ...(d.group !== undefined ? [`group=${d.group}`] : []),
  ];
  const lines = [
    `# Managed by webshare-cdktf for ${spec.unit.replace(/[\r\n]/g, " ")}. Changes here are replaced on the next deploy.`,
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
