import * as fs from "node:fs";
import type * as net from "node:net";
import { failureLine } from "../errors";
import type { LineDecoder } from "../ssh/line-decoder";
import type { ProvisionHandler } from "../ssh/broker";
import { encodeLine, parseClientMessage, ProvisionFrame, ProvisionRequest } from "../ssh/provision-wire";
import { provision } from "./provision";
import { type Checkout, checkoutsOfOneDeploy } from "../checkout";

/**
 * The deploy process's side of the thin provisioner (cli/provision-client.ts): it runs
 * `provision()` for each client in this process, with the client's environment and working
 * directory, streams the unit's output back as frames and ends with the exit code the full
 * provisioner would have had (0, 1 with the same failure line, 130 after an interrupt).
 * Several units run at once here, so nothing on that path reads process.env or writes
 * process.stdout: provision() gets env, cwd, write and warn.
 *
 * An interrupt from the client, or the client going away (killed), runs the cleanup the
 * unit registered (it drops its session, then releases the host lock over a fresh
 * connection), as the full provisioner's interrupt handler does.
 *
 * Relative paths in a unit's spec (an app source, a key file) are relative to the
 * provisioner's working directory (the stack directory), so this process works in that
 * directory while it runs units: all units of one apply share it; a client from another
 * directory while units run is declined and runs its unit itself.
 */
export function provisionServer(): ProvisionHandler & { unitsRun(): number } {
  const running = new Set<Promise<void>>();
  // One deploy: its units read the checkout once, not twice each (git would block this process).
  const checkouts = checkoutsOfOneDeploy();
  const directory = workingDirectory();
  let accepted = 0;
  return {
    /** Units this process ran (accepted) so far. */
    unitsRun: () => accepted,
    serve(socket, lines, decoder) {
      const send = (frame: ProvisionFrame) => {
        if (!socket.destroyed) socket.write(encodeLine(frame));
      };
      const request = parseClientMessage(lines[0] ?? "");
      if (request instanceof Error || request.op !== "provision") {
        send({ t: "declined", reason: request instanceof Error ? request.message : "the first message must be provision" });
        socket.end();
        return;
      }
      const refused = directory.enter(request.cwd);
      if (refused !== undefined) {
        send({ t: "declined", reason: refused });
        socket.end();
        return;
      }
      send({ t: "accepted" });
      accepted++;
      const task = runUnit(socket, request, lines.slice(1), decoder, send, checkouts).finally(() => {
        directory.leave();
        running.delete(task);
      });
      running.add(task);
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([Promise.all(running), timeout]);
      clearTimeout(timer);
    },
  };
}

function runUnit(socket: net.Socket, request: ProvisionRequest, early: string[], decoder: LineDecoder, send: (frame: ProvisionFrame) => void, checkouts: (dir: string) => Checkout | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    let cleanup: (() => Promise<void>) | undefined;
    let interrupted = false;
    let finished = false;
    const end = (code: number) => {
      if (finished) return;
      finished = true;
      send({ t: "exit", code });
      socket.end();
      resolve();
    };
    const err = (line: string) => send({ t: "err", text: `${line}\n` });
    // What cli/full.ts does on an interrupt; the client has no output to write to when it is gone.
    const interrupt = (reason: string, tell: boolean) => {
      if (interrupted || finished) return;
      interrupted = true;
      if (tell) err(`webshare: interrupted (${reason}): stopping${cleanup ? ", releasing the host lock if this run holds it" : " (not connected yet: no host lock to release)"}`);
      void (cleanup?.() ?? Promise.resolve()).catch(() => undefined).finally(() => end(130));
    };
    const onLine = (line: string) => {
      const message = parseClientMessage(line);
      if (!(message instanceof Error) && message.op === "interrupt") interrupt(message.reason, true);
    };
    early.forEach(onLine);
    socket.on("data", (chunk: Buffer) => decoder.push(chunk).forEach(onLine));
    socket.on("error", () => undefined); // "close" follows
    socket.on("close", () => interrupt("its provisioner process ended", false));

    provision({
      action: request.action,
      env: request.env,
      cwd: request.cwd,
      checkoutOf: checkouts,
      write: (line) => send({ t: "out", text: `${line}\n` }),
      warn: err,
      onInterrupt: (c) => (cleanup = c),
    }).then(
      () => interrupted || end(0),
      (e: unknown) => {
        if (interrupted) return; // the full provisioner has exited with 130 by now
        err(failureLine(e));
        end(1);
      },
    );
  });
}

/**
 * This process works in the directory of the units it runs while it runs any (relative paths
 * in their specs resolve there); back where it was once none runs. undefined from `enter`
 * means admitted; else why not.
 */
function workingDirectory(): { enter(cwd: string): string | undefined; leave(): void } {
  let units = 0;
  let current: string | undefined;
  let home: string | undefined;
  return {
    enter(cwd) {
      if (units > 0) {
        if (cwd !== current) return `it runs units of ${current} now`;
        units++;
        return undefined;
      }
      try {
        if (!fs.statSync(cwd).isDirectory()) return `${cwd} is not a directory`;
        if (process.cwd() !== cwd) {
          home ??= process.cwd();
          process.chdir(cwd);
        }
      } catch (e) {
        return `cannot work in ${cwd} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      }
      current = cwd;
      units = 1;
      return undefined;
    },
    leave() {
      if (--units > 0) return;
      current = undefined;
      if (home === undefined) return;
      try {
        process.chdir(home);
      } catch {
        // The original directory is gone: stay (the deploy uses absolute paths from here).
      }
      home = undefined;
    },
  };
}
