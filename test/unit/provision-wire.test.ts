import { encodeLine, isProvisionLine, parseClientMessage, parseFrame, ProvisionFrame, wireEnv } from "../../lib/ssh/provision-wire";
import { LineDecoder } from "../../lib/ssh/line-decoder";

/** The thin provisioner's conversation with `webshare deploy` (pure): what crosses the socket reads back equal, and nothing else passes. */
describe("provision wire", () => {
  const request = { op: "provision" as const, action: "create" as const, env: { HOME: "/home/u", WEBSHARE_UNIT: '{"a":"x\\ny"}', "ÄÖ": "ü ✓\r\n" }, cwd: "/p/cdktf.out/stacks/demo", pid: 4242 };

  test("a request with newlines and non-ASCII text is one line and reads back equal", () => {
    const line = encodeLine(request);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(isProvisionLine(line.slice(0, -1))).toBe(true);
    expect(parseClientMessage(line.slice(0, -1))).toEqual(request);
    expect(parseClientMessage(encodeLine({ op: "interrupt", reason: "SIGINT" }))).toEqual({ op: "interrupt", reason: "SIGINT" });
  });

  test("every frame reads back equal, also when the bytes arrive one at a time", () => {
    const frames: ProvisionFrame[] = [{ t: "accepted" }, { t: "out", text: "[demo/app] connect 0.1s\n" }, { t: "err", text: "webshare: ü\nWhat to do: x\n" }, { t: "declined", reason: "r" }, { t: "exit", code: 130 }];
    const bytes = Buffer.from(frames.map(encodeLine).join(""));
    const decoder = new LineDecoder();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(lines.map(parseFrame)).toEqual(frames);
  });

  test("malformed client messages are named, not accepted", () => {
    const bad = (m: object | string) => parseClientMessage(typeof m === "string" ? m : JSON.stringify(m));
    expect(bad("not json")).toEqual(new Error("not a JSON object"));
    expect(bad({ ...request, op: "run" })).toEqual(new Error('unknown op "run"'));
    expect(bad({ ...request, action: "apply" })).toEqual(new Error('unknown action "apply"'));
    expect(bad({ ...request, env: { A: 1 } })).toEqual(new Error("env must map names to strings"));
    expect(bad({ ...request, cwd: "relative/dir" })).toEqual(new Error("cwd must be an absolute path"));
    expect(bad({ ...request, pid: 0 })).toEqual(new Error("pid must be a positive integer"));
    expect(bad({ op: "interrupt" })).toEqual(new Error("interrupt without a reason"));
  });

  test("a line that is no frame (an old broker's reply, a broken one) is undefined", () => {
    expect(parseFrame('{"id":1,"ok":false,"error":{"message":"x","webshare":false}}')).toBeUndefined();
    expect(parseFrame('{"t":"exit","code":"1"}')).toBeUndefined();
    expect(parseFrame('{"t":"out"}')).toBeUndefined();
    expect(parseFrame("[]")).toBeUndefined();
    expect(isProvisionLine('{"id":1,"op":"open"}')).toBe(false);
  });

  test("the environment crosses without unset variables", () => {
    expect(wireEnv({ A: "1", B: undefined, C: "" })).toEqual({ A: "1", C: "" });
  });
});
