import * as net from "node:net";

/**
 * TCP connections opened before the SSH client is loaded (issue 17). `webshare deploy`
 * knows which hosts will change about 0.1 s after it starts (the early guess,
 * lib/cdktf/preconnect.ts), but ssh2, the broker and the unit server take another 0.1 s to
 * load. Opening the TCP connection at the guess lets the handshake (1.5 round trips on a
 * real link) and the server's greeting travel while they load; the SSH connect then takes
 * the socket as it is (ssh2's `sock`), with whatever the server sent already buffered (a
 * socket without a reader keeps its data). Only Node's `net` here, so it loads in no time.
 *
 * A socket nobody takes (a wrong guess, a deploy that fails before it connects) is closed
 * by `close()`: sshd sees a connection without a login. An error before a socket is taken
 * drops it quietly, and the connect opens its own, with its usual errors and retries.
 */
export class EarlySockets {
  private readonly sockets = new Map<string, net.Socket>();

  /** Start a TCP connection to `host:port` unless one is open or opening already. */
  open(host: string, port: number): void {
    const key = `${host}:${port}`;
    if (this.sockets.has(key)) return;
    const socket = net.connect({ host, port, noDelay: true });
    socket.on("error", () => {
      if (this.sockets.get(key) === socket) this.sockets.delete(key);
    });
    socket.on("close", () => {
      if (this.sockets.get(key) === socket) this.sockets.delete(key);
    });
    this.sockets.set(key, socket);
  }

  /** The socket opened to `host:port`, handed over once (undefined when none, or it failed). */
  take(host: string, port: number): net.Socket | undefined {
    const key = `${host}:${port}`;
    const socket = this.sockets.get(key);
    this.sockets.delete(key);
    if (socket === undefined || socket.destroyed) return undefined;
    return socket;
  }

  /** How many sockets are open and not taken. */
  get waiting(): number {
    return this.sockets.size;
  }

  /** Close the sockets nobody took. */
  close(): void {
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
  }
}
