import * as net from "node:net";
import { LineDecoder } from "../ssh/line-decoder";
import { encodeLine, parseFrame, wireEnv } from "../ssh/provision-wire";
import { markWorking } from "../cdktf/run-dir";
import { watchInterrupts } from "./interrupt";

/**
 * The provisioner as a thin client of `webshare deploy` (issue 17): it sends its action, its
 * environment, its working directory and its pid over the broker's socket, the deploy
 * process runs the unit (lib/host/provision-serve.ts), and this process relays the unit's
 * output as it comes and exits with its exit code. It loads only Node built-ins and modules
 * without imports, so a unit costs a bare Node start instead of loading the whole CLI.
 *
 * - A broker that cannot be reached, or declines (an older one, or a different working
 *   directory while it runs other units): `fallback` runs the unit here, as before.
 * - Interrupts (the same ones as the full provisioner, cli/interrupt.ts) are passed on; the
 *   deploy process runs the unit's cleanup (releasing the host lock) and this process exits
 *   130 when it is done.
 * - While the unit runs this process is marked in the run directory, so a `webshare deploy`
 *   that was interrupted waits for it as for the full provisioner.
 */
export function provisionThroughBroker(action: "create" | "destroy", socketPath: string, fallback: () => void): void {
  let state: "asking" | "running" | "done" = "asking";
  let interrupted: string | undefined;
  let unmark = () => undefined as void;
  const decoder = new LineDecoder();
  const socket = net.connect(socketPath);

  const stopWatching = watchInterrupts((reason) => {
    interrupted = reason;
    if (state === "running") socket.write(encodeLine({ op: "interrupt", reason }));
  });

  const runHere = () => {
    if (state !== "asking") return;
    state = "done";
    socket.destroy();
    stopWatching();
    if (interrupted === undefined) return fallback();
    process.stderr.write(`webshare: interrupted (${interrupted}): stopping (not connected yet: no host lock to release)\n`);
    exit(130);
  };

  const exit = (code: number) => {
    state = "done";
    unmark();
    socket.destroy();
    // Exit only once stdout and stderr are flushed (to a pipe they are asynchronous); should
    // a closed one never call back, the process still ends with this code.
    process.exitCode = code;
    let pending = 2;
    const done = () => --pending === 0 && process.exit(code);
    process.stdout.write("", done);
    process.stderr.write("", done);
  };

  socket.on("connect", () => {
    socket.write(encodeLine({ op: "provision", action, env: wireEnv(process.env), cwd: process.cwd(), pid: process.pid }));
  });
  socket.on("error", () => undefined); // "close" follows
  socket.on("close", () => {
    if (state === "asking") return runHere();
    if (state !== "running") return;
    process.stderr.write(`webshare: the webshare deploy process that ran this unit went away before it finished (its socket ${socketPath} closed); the unit may be half done: run the deploy again\n`);
    exit(1);
  });
  socket.on("data", (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) {
      if (state === "done") return;
      const frame = parseFrame(line);
      if (frame === undefined) {
        // Not a broker that speaks this: before acceptance, run here; after, it is lost.
        if (state === "asking") return runHere();
        socket.destroy();
        return;
      }
      switch (frame.t) {
        case "accepted":
          state = "running";
          unmark = markWorking(process.env);
          if (interrupted !== undefined) socket.write(encodeLine({ op: "interrupt", reason: interrupted }));
          break;
        case "declined":
          return runHere();
        case "out":
          process.stdout.write(frame.text);
          break;
        case "err":
          process.stderr.write(frame.text);
          break;
        case "exit":
          return exit(frame.code);
      }
    }
  });
}
