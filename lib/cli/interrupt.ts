/**
 * When the provisioner must stop early. Ctrl+C does not always reach it as a signal: cdktf
 * runs Terraform in its own process group, and Terraform stops a provisioner by killing the
 * `sh -c` it started, which leaves this process running without a parent and writing into
 * a closed pipe. So any of these counts as an interrupt: SIGINT, SIGTERM, SIGHUP, the
 * parent process going away, stdout or stderr closing. The handler runs once.
 */
export function watchInterrupts(handler: (reason: string) => void, pollMs = 250): () => void {
  let fired = false;
  const fire = (reason: string) => {
    if (fired) return;
    fired = true;
    handler(reason);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = (signal: NodeJS.Signals) => fire(signal);
  for (const s of signals) process.on(s, onSignal);
  const parent = process.ppid;
  const watchdog = setInterval(() => process.ppid !== parent && fire("its parent process ended"), pollMs);
  watchdog.unref();
  // A closed pipe must not crash the process (that would skip the cleanup); it means stop.
  const onOutputError = () => fire("its output was closed");
  process.stdout.on("error", onOutputError);
  process.stderr.on("error", onOutputError);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    clearInterval(watchdog);
  };
}
