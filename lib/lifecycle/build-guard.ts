import { commandLine, quote } from "../shell";

/**
 * A build whose SSH connection dropped leaves its remote process running (no tty, so no
 * SIGHUP): pip keeps writing into the venv directory. The next build of that directory must
 * stop it first, or both would write there at once. The build records its pid; the next
 * one stops that process if it still runs a command naming the directory. (Linux /proc.)
 */

/** Shell text: run `argv` (replacing the shell, so the pid stays) after recording its pid. */
export function recordPidAndRun(pidFile: string, argv: readonly string[]): string {
  return `echo $$ > ${quote(pidFile)} && exec ${commandLine(argv)}`;
}

/** Shell text: stop the recorded process if it still works on `marker` (a path); prints `stopped PID`. */
export function stopOrphanScript(pidFile: string, marker: string): string {
  const f = quote(pidFile);
  // A zombie's cmdline is empty, so "still running" is "cmdline still names the marker".
  const running = `tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -qF -- ${quote(marker)}`;
  return [
    `if [ -f ${f} ]; then`,
    `  p=$(cat ${f}); case $p in ''|*[!0-9]*) p= ;; esac;`,
    `  if [ -n "$p" ] && ${running}; then`,
    `    kill $p 2>/dev/null; i=0; while ${running} && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done;`,
    `    if ${running}; then kill -9 $p 2>/dev/null; fi; echo "stopped $p";`,
    `  fi;`,
    `  rm -f ${f};`,
    `fi; true`,
  ].join(" ");
}
