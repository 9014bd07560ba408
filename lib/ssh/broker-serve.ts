import type * as net from "node:net";
import * as path from "node:path";
import type { HostSession } from "./session";
import type { SessionPool, Shared } from "./broker-pool";
import { BrokerRequest, encodeMessage, fromWireContent, LineDecoder, OpenedSession, parseRequest, RequestFiles, toWireError } from "./broker-protocol";
import type { UploadFile } from "./remote-session";

/**
 * One client of the broker (one provisioner's session) on one socket: its first request binds
 * it to a shared connection, later ones run on it, replies go back by id as they finish.
 * `read` holds the lines the broker read already to tell which conversation this is.
 * When the client goes away (disposed, killed), its commands still running get their
 * channels closed, as its own connection's end would have done; the connection stays up.
 */
export function serveClient(socket: net.Socket, pool: SessionPool<HostSession>, warn: (line: string) => void, read: { lines: string[]; decoder: LineDecoder } = { lines: [], decoder: new LineDecoder() }): void {
  const gone = new AbortController();
  let bound: Promise<Shared<HostSession>> | undefined;

  socket.on("close", () => gone.abort());
  socket.on("error", () => undefined); // a client that died; "close" follows
  const onLines = (lines: string[]) => {
    for (const line of lines) {
      let request: BrokerRequest;
      try {
        request = parseRequest(line);
      } catch (e) {
        warn(`webshare: the SSH connection broker dropped a client that sent an unreadable request: ${(e as Error).message.split("\n")[0]}`);
        socket.destroy();
        return;
      }
      void answer(request);
    }
  };
  onLines(read.lines);
  if (!socket.destroyed) socket.on("data", (chunk: Buffer) => onLines(read.decoder.push(chunk)));

  async function answer(request: BrokerRequest): Promise<void> {
    let reply;
    try {
      reply = { id: request.id, ok: true as const, value: await perform(request) };
    } catch (e) {
      reply = { id: request.id, ok: false as const, error: toWireError(e) };
    }
    if (!socket.destroyed) socket.write(encodeMessage(reply));
  }

  async function perform(request: BrokerRequest): Promise<unknown> {
    if (request.op === "open") {
      if (bound !== undefined) throw new Error("this broker client already opened its session");
      bound = pool.acquire(request.connection);
      const { session, warnings } = await bound;
      return { target: session.target, hostKey: session.hostKey, route: session.route, warnings } satisfies OpenedSession;
    }
    if (bound === undefined) throw new Error(`"${request.op}" before "open"`);
    const { session, channels } = await bound;
    const abort = gone.signal;
    switch (request.op) {
      // A command still queued when its client left is not started at all.
      case "run":
        return channels.run(() => (abort.aborted ? Promise.resolve(undefined) : session.run(request.place, request.step, request.script, { stdin: request.stdin, abort })));
      case "runRaw":
        return channels.run(() => (abort.aborted ? Promise.resolve(undefined) : session.runRaw(request.place, request.step, request.script, request.stdin, abort)));
      case "writeFileAtomic":
        return session.writeFileAtomic(request.place, request.step, request.remotePath, fromWireContent(request.content), request.mode);
      case "putFiles":
        return session.putFiles(request.place, request.step, fromWireFiles(request.files));
      case "runWithFiles": {
        const files = fromWireFiles(request.files);
        return channels.run(() => (abort.aborted ? Promise.resolve(undefined) : session.runWithFiles(request.place, request.step, { before: request.before, files, script: request.script, stdin: request.stdin }, abort)));
      }
    }
  }
}

/** Uploads as the session takes them; the client resolved the local paths (a relative one would depend on the broker's cwd). */
function fromWireFiles(files: RequestFiles): UploadFile[] {
  if (files.some((f) => "local" in f && !path.isAbsolute(f.local))) throw new Error("an upload needs absolute local paths");
  return files.map((f) => ("local" in f ? f : { remote: f.remote, mode: f.mode, content: fromWireContent(f.content), ...(f.atomic === true && { atomic: true }) }));
}
