import * as net from "node:net";
import { countsBetween, LatencyProxy, startLatencyProxyProcess } from "../../bench/latency-proxy";

/**
 * The bench's slow link (bench/latency-proxy.ts) in front of a tiny echo server on loopback:
 * bytes arrive complete and in order in both directions, and connections, bytes and turns
 * (direction changes of the data) are counted as a conversation makes them. Order and counts
 * only: no durations are asserted.
 */

/** An echo server on a free port; with `greeting`, it speaks first (as sshd does). */
async function echoServer(greeting?: string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if (greeting !== undefined) socket.write(greeting);
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("end", () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client that reads what arrives and can wait until a given number of bytes has. */
async function client(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const received: Buffer[] = [];
  let total = 0;
  let waiter: { bytes: number; resolve: () => void } | undefined;
  socket.on("data", (chunk: Buffer) => {
    received.push(chunk);
    total += chunk.length;
    if (waiter !== undefined && total >= waiter.bytes) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  });
  return {
    socket,
    received: () => Buffer.concat(received),
    /** Resolves once `bytes` bytes in all have arrived. */
    until: (bytes: number) => (total >= bytes ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { bytes, resolve }))),
    closed: () => new Promise<void>((resolve) => socket.once("close", () => resolve())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(rttMs: number, greeting?: string) {
  const echo = await echoServer(greeting);
  cleanups.push(echo.close);
  const proxy = await LatencyProxy.start({ targetHost: "127.0.0.1", targetPort: echo.port, rttMs });
  cleanups.push(() => proxy.close());
  return proxy;
}

test.each([0, 20])("RTT %i ms: many chunks of many sizes come back complete and in order", async (rttMs) => {
  const proxy = await setUp(rttMs);
  const c = await client(proxy.port);
  // Numbered chunks of 1 byte to 64 KiB, written back to back without waiting: a delay per
  // chunk that did not keep order would swap some of them.
  const chunks: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const size = [1, 7, 512, 65536, 3][i % 5];
    chunks.push(Buffer.alloc(size, i % 251));
  }
  const sent = Buffer.concat(chunks);
  for (const chunk of chunks) c.socket.write(chunk);
  await c.until(sent.length);
  expect(c.received().equals(sent)).toBe(true);
  const counts = proxy.counts();
  expect(counts.connections).toBe(1);
  expect(counts.bytesUp).toBe(sent.length);
  expect(counts.bytesDown).toBe(sent.length);
  c.socket.destroy();
});

test("a request/reply conversation costs one turn per change of direction", async () => {
  const proxy = await setUp(10);
  const c = await client(proxy.port);
  // a ->, <- a, b ->, <- b, c ->, <- c: 5 changes of direction.
  let expected = "";
  for (const message of ["a", "bb", "ccc"]) {
    c.socket.write(message);
    expected += message;
    await c.until(expected.length);
  }
  expect(c.received().toString()).toBe("abbccc");
  expect(proxy.counts()).toEqual({ connections: 1, turns: 5, bytesUp: 6, bytesDown: 6 });
  c.socket.destroy();
});

test("a server that speaks first, then one exchange: two turns; a second connection adds its own", async () => {
  const proxy = await setUp(10, "hello\n");
  for (let round = 1; round <= 2; round++) {
    const c = await client(proxy.port);
    await c.until(6);
    c.socket.write("ping");
    await c.until(10);
    expect(c.received().toString()).toBe("hello\nping");
    // The end of stream travels behind the data; the echo server closes its side in reply.
    const closed = c.closed();
    c.socket.end();
    await closed;
    // <- hello, ping ->, <- ping: 2 turns per connection (the FIN is no data).
    expect(proxy.counts()).toEqual({ connections: round, turns: 2 * round, bytesUp: 4 * round, bytesDown: 10 * round });
  }
});

test("an upload in many chunks and one reply at its end is one turn, however the chunks are split", async () => {
  const size = 1024 * 1024;
  // A server that only reads, and says "done" once it has the whole upload.
  let got = 0;
  const server = net.createServer((socket) =>
    socket.on("data", (chunk: Buffer) => {
      got += chunk.length;
      if (got === size) socket.write("done");
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const proxy = await LatencyProxy.start({ targetHost: "127.0.0.1", targetPort: (server.address() as net.AddressInfo).port, rttMs: 5 });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanups.push(() => proxy.close());
  const c = await client(proxy.port);
  for (let i = 0; i < 64; i++) c.socket.write(Buffer.alloc(size / 64, i));
  await c.until(4);
  expect(c.received().toString()).toBe("done");
  expect(proxy.counts()).toEqual({ connections: 1, turns: 1, bytesUp: size, bytesDown: 4 });
  c.socket.destroy();
});

test("the proxy in a process of its own answers its counts over IPC; countsBetween is one deploy's share", async () => {
  const echo = await echoServer();
  cleanups.push(echo.close);
  const proxy = await startLatencyProxyProcess({ targetHost: "127.0.0.1", targetPort: echo.port, rttMs: 10 });
  cleanups.push(() => proxy.stop());
  const before = await proxy.counts();
  expect(before).toEqual({ connections: 0, turns: 0, bytesUp: 0, bytesDown: 0 });
  const c = await client(proxy.port);
  c.socket.write("one");
  await c.until(3);
  c.socket.write("two");
  await c.until(6);
  expect(c.received().toString()).toBe("onetwo");
  const after = await proxy.counts();
  expect(countsBetween(before, after)).toEqual({ connections: 1, turns: 3, bytesUp: 6, bytesDown: 6 });
  // A last word and the close are still in the delay when the client is gone: the settled
  // counts wait for them, so they are not counted in the next deploy's share.
  c.socket.end("bye");
  const settled = await proxy.settledCounts();
  expect(countsBetween(before, settled)).toEqual({ connections: 1, turns: 5, bytesUp: 9, bytesDown: 9 });
  expect(await proxy.counts()).toEqual(settled);
});
