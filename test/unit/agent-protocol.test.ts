import { afterMarker, DATA_CHUNK, encodeFrame, encodeRequest, FrameDecoder, parseExit } from "../../lib/ssh/agent-protocol";
import { AGENT_PROGRAM } from "../../lib/ssh/agent-program";
import { framedScript } from "../../lib/ssh/framing";

/** The command agent's wire format (pure): frames, request heads, exits, the start marker. */
describe("frames", () => {
  test("frames split anywhere come out whole, in order, with their ids and bytes", () => {
    const binary = Buffer.from([0, 1, 0x0a, 0xff, 0xfe, 0x80]);
    const bytes = Buffer.concat([encodeFrame("O", 1, Buffer.from("ü ${x} ✓\n")), encodeFrame("E", 2, binary), encodeFrame("X", 1, Buffer.from('{"code":3}')), encodeFrame("H", 0)]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      expect(frames.map((f) => [f.kind, f.id, f.body.toString("hex")])).toEqual([
        ["O", 1, Buffer.from("ü ${x} ✓\n").toString("hex")],
        ["E", 2, binary.toString("hex")],
        ["X", 1, Buffer.from('{"code":3}').toString("hex")],
        ["H", 0, ""],
      ]);
    }
  });

  test("a stream that is not frames is refused, not read as a huge frame's start", () => {
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 2, 0x41, 0x42]))).toThrow("not a command agent frame");
  });

  test("a request frame holds its JSON head, then its first data bytes", () => {
    const head = { script: "printf '%s' \"$1\" 'ü'", stdin: 3, files: [{ path: "/home/u/a b", mode: 0o600, atomic: true, size: 2 }] };
    const [frame] = new FrameDecoder().push(encodeRequest(42, head, Buffer.from("in\nok")));
    expect(frame?.kind).toBe("R");
    expect(frame?.id).toBe(42);
    const size = frame!.body.readUInt32BE(0);
    expect(JSON.parse(frame!.body.subarray(4, 4 + size).toString("utf8"))).toEqual(head);
    expect(frame!.body.subarray(4 + size).toString("utf8")).toBe("in\nok");
    expect(DATA_CHUNK).toBeGreaterThanOrEqual(64 * 1024);
  });
});

describe("exits", () => {
  test("an exit code, or a failed write with its partial files", () => {
    expect(parseExit(Buffer.from('{"code":0}'))).toEqual({ code: 0 });
    expect(parseExit(Buffer.from('{"error":"No space left on device","errno":"ENOSPC","left":["/h/a.tmp"]}'))).toEqual({ error: "No space left on device", errno: "ENOSPC", left: ["/h/a.tmp"] });
    expect(() => parseExit(Buffer.from('{"what":1}'))).toThrow("not a command agent exit");
  });
});

describe("the start marker", () => {
  const marker = "webshare-output-0123456789abcdef01234567";
  test("what a login shell prints before the marker is cut off; frames after it stay byte for byte", () => {
    const frames = encodeFrame("H", 0, Buffer.from("webshare-agent 1"));
    expect(afterMarker(Buffer.concat([Buffer.from(`${marker}\n`), frames]), marker)).toEqual(frames);
    expect(afterMarker(Buffer.concat([Buffer.from(`Welcome!\n${marker}x\n${marker}\n`), frames]), marker)).toEqual(frames);
    expect(afterMarker(Buffer.from(`Welcome!\n${marker}`), marker)).toBeUndefined();
  });

  test("the program is fixed text: the start command quotes it as one argv element", () => {
    expect(AGENT_PROGRAM).not.toContain("\0");
    expect(AGENT_PROGRAM).toMatch(/^import /);
    expect(framedScript("exec python3", marker).endsWith("\nexec python3")).toBe(true);
  });
});
