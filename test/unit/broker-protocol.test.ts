import { errors, errorText, WebshareError } from "../../lib/errors";
import { encodeMessage, fromWireContent, fromWireError, LineDecoder, parseReply, parseRequest, toWireContent, toWireError } from "../../lib/ssh/broker-protocol";
import { SessionPool } from "../../lib/ssh/broker-pool";
import { Limiter } from "../../lib/ssh/limit";
import type { ConnectionSpec } from "../../lib/spec";
import { resolveConnection, type ResolvedConnection } from "../../lib/ssh/resolve";

/** The broker's pure parts: framing, what crosses the socket, the pool and the channel limit. */
const place = { unit: "demo/app", target: "u@h:22" };
const spec: ConnectionSpec = { host: "h", port: 22, user: "u", privateKeyPath: "/k", useAgent: false, hostKey: "SHA256:x", connectTimeoutSeconds: 10 };
const connection: ResolvedConnection = resolveConnection(spec);

describe("framing", () => {
  test("a message with newlines and non-ASCII text is one line and reads back equal", () => {
    const request = { id: 7, op: "run" as const, place, step: "s", script: "printf 'a\\nb'\necho ü ✓", stdin: "x\r\ny" };
    const line = encodeMessage(request);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(parseRequest(line.slice(0, -1))).toEqual(request);
  });

  test("lines split anywhere, even inside a UTF-8 character, come out whole", () => {
    const bytes = Buffer.from(encodeMessage({ id: 1, ok: true, value: "ü✓" }) + encodeMessage({ id: 2, ok: true }));
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new LineDecoder();
      const lines = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      expect(lines.map(parseReply)).toEqual([
        { id: 1, ok: true, value: "ü✓" },
        { id: 2, ok: true },
      ]);
    }
  });

  test("an unknown operation or a missing id is refused", () => {
    expect(() => parseRequest(JSON.stringify({ id: 1, op: "shell", script: "id" }))).toThrow();
    expect(() => parseRequest(JSON.stringify({ op: "run", place, step: "s", script: "id" }))).toThrow();
    expect(() => parseReply(JSON.stringify({ value: 1 }))).toThrow(/not a broker reply/);
  });
});

describe("values crossing the socket", () => {
  test("a WebshareError comes back with the same text; other errors keep their message", () => {
    const original = errors.remoteCommandFailed(place, "pip install", "pip install -r r.txt", 1, "ERROR: no such package");
    const back = fromWireError(JSON.parse(JSON.stringify(toWireError(original))));
    expect(back).toBeInstanceOf(WebshareError);
    expect(errorText(back)).toBe(errorText(original));
    expect(fromWireError(toWireError(new Error("boom")))).not.toBeInstanceOf(WebshareError);
    expect(errorText(fromWireError(toWireError(new Error("boom"))))).toBe("boom");
  });

  test("text stays text and bytes stay bytes", () => {
    expect(fromWireContent(toWireContent("plain ü"))).toBe("plain ü");
    const bytes = Buffer.from([0, 255, 10, 13]);
    expect(fromWireContent(JSON.parse(JSON.stringify(toWireContent(bytes))))).toEqual(bytes);
  });
});

describe("Limiter", () => {
  test("never runs more than its maximum at once, and runs everything", async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, i % 3));
          running--;
          return i;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test("a failing task frees its slot", async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await limiter.run(async () => "next")).toBe("next");
  });
});

describe("SessionPool", () => {
  class Fake {
    alive = true;
    disposed = false;
    dispose(): void {
      this.disposed = true;
      this.alive = false;
    }
  }

  test("one connection per spec however the keys are ordered; concurrent first uses share it", async () => {
    const opened: Fake[] = [];
    const pool = new SessionPool(async () => opened[opened.push(new Fake()) - 1]!);
    const reordered = Object.fromEntries(Object.entries(connection).reverse()) as ResolvedConnection;
    const [a, b, c] = await Promise.all([pool.acquire(connection), pool.acquire(reordered), pool.acquire(resolveConnection({ ...spec, port: 2222 }))]);
    expect(a.session).toBe(b.session);
    expect(c.session).not.toBe(a.session);
    expect(pool.opened).toBe(2);
  });

  test("the same target through a jump host, or another jump host, is another connection", async () => {
    const pool = new SessionPool(async () => new Fake());
    const jump = { host: "bastion", hostKey: "SHA256:j" };
    const direct = await pool.acquire(connection);
    const viaA = await pool.acquire(resolveConnection({ ...spec, jumpHosts: [jump] }));
    const viaA2 = await pool.acquire(resolveConnection({ ...spec, jumpHosts: [{ ...jump }] }));
    const viaB = await pool.acquire(resolveConnection({ ...spec, jumpHosts: [{ ...jump, port: 2200 }] }));
    expect(viaA.session).not.toBe(direct.session);
    expect(viaA2.session).toBe(viaA.session);
    expect(viaB.session).not.toBe(viaA.session);
    expect(pool.opened).toBe(3);
  });

  test("a dropped connection is replaced for the next client; a failed open is not kept", async () => {
    let fail = true;
    const pool = new SessionPool(async (_c, warn) => {
      if (fail) throw new Error("refused");
      warn("a warning of this connect");
      return new Fake();
    });
    await expect(pool.acquire(connection)).rejects.toThrow("refused");
    fail = false;
    const first = await pool.acquire(connection);
    expect(first.warnings).toEqual(["a warning of this connect"]);
    first.session.alive = false; // dropped
    const second = await pool.acquire(connection);
    expect(second.session).not.toBe(first.session);
    expect(first.session.disposed).toBe(true);
    expect(pool.opened).toBe(2);
  });

  test("close disposes every connection, also one still connecting, and refuses new clients", async () => {
    let finish!: (f: Fake) => void;
    const late = new Fake();
    const pool = new SessionPool(() => new Promise<Fake>((resolve) => (finish = resolve)));
    const pending = pool.acquire(connection);
    const closed = pool.close();
    finish(late);
    await closed;
    await pending;
    expect(late.disposed).toBe(true);
    await expect(pool.acquire(connection)).rejects.toThrow(/closing/);
  });
});
