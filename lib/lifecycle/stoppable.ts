import * as path from "node:path";
import type { AppUnitSpec } from "../spec";
import { commandLine, quote } from "../shell";

/**
 * A remote command that Ctrl+C can stop, with or without a time limit. It runs under GNU
 * `timeout`, which puts itself and everything the command starts into a process group of
 * its own (pgid = its pid, recorded in `pidFile`) and, on SIGTERM, passes the signal to the
 * whole group. A dropped SSH connection leaves the command running (no tty, no SIGHUP), so
 * the provisioner's abort script (`stopGroupScript`) stops the group over a new connection.
 */

/**
 * Shell text: run `timeout` with `argv` in the background (stderr merged into stdout, in
 * order; stdin is /dev/null), record its pid, wait for it and remove the record; the script
 * exits with its status. `seconds` 0 = no time limit. Exit 124: the limit passed (SIGTERM);
 * 137: it had to be killed (SIGKILL 5 s later).
 */
export function stoppableScript(pidFile: string, seconds: number, argv: readonly string[]): string {
  const f = quote(pidFile);
  return `${commandLine(["timeout", "-k", "5", String(seconds), ...argv])} 2>&1 & echo $! > ${f}; wait $!; c=$?; rm -f ${f}; exit $c`;
}

/** Exit status of `timeout` when the time limit stopped the command. */
export const TIMED_OUT = [124, 137];

/** Shell text: stop the recorded group if its leader is still our `timeout`; prints `stopped PID`. */
export function stopGroupScript(pidFile: string): string {
  const f = quote(pidFile);
  const ours = `tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -q '^timeout '`;
  return [
    `if [ -f ${f} ]; then`,
    `  p=$(cat ${f}); case $p in ''|*[!0-9]*) p= ;; esac;`,
    `  if [ -n "$p" ] && ${ours}; then`,
    `    kill -TERM -$p 2>/dev/null; i=0; while kill -0 -$p 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done;`,
    `    kill -KILL -$p 2>/dev/null; echo "stopped $p";`,
    `  fi;`,
    `  rm -f ${f};`,
    `fi; true`,
  ].join(" ");
}

/** `env NAME=value ...`: the app's environment for a command, exactly the variables its entry point sets. */
export function envArgs(environment: Readonly<Record<string, string>>): string[] {
  return ["env", ...Object.keys(environment).sort().map((k) => `${k}=${environment[k]}`)];
}

/**
 * Python run by the host's interpreter: load the secret environment file (a JSON object) into
 * the environment, then exec the command. The values never appear on a command line (which
 * other users can read in /proc).
 */
const LOAD_SECRETS_PY = "import json, os, sys\nwith open(sys.argv[1]) as f:\n    os.environ.update(json.load(f))\nos.execvp(sys.argv[2], sys.argv[2:])";

/**
 * The prefix that gives a command the app's environment as its entry point has it: `env
 * NAME=value ...` for `environment`, then, with a secret environment, the host's Python
 * loading its file before it execs the command.
 */
export function appEnvArgs(spec: Pick<AppUnitSpec, "environment" | "secretEnvironment" | "host">): string[] {
  const secrets = spec.secretEnvironment === undefined ? [] : [spec.host.python, "-c", LOAD_SECRETS_PY, path.posix.join(spec.host.home, spec.secretEnvironment.path)];
  return [...envArgs(spec.environment), ...secrets];
}
