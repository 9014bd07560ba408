/**
 * The wire format between a session and its command agent (lib/ssh/agent-program.ts), pure.
 *
 * Every frame: a 4-byte big-endian length N, then N bytes: a 1-byte kind, a 4-byte
 * big-endian request id and the body (N - 5 bytes).
 *
 * To the agent:
 * - "R" request: a 4-byte JSON length, the JSON head ({before?, script?, stdin, files}), then
 *   the first of its data bytes;
 * - "D" data: more bytes of a request, in order: its stdin bytes, then each file's content;
 * - "K" kill: stop the request's process group.
 *
 * From the agent:
 * - "H" hello (id 0), once, when it is ready;
 * - "O" / "E": bytes its script printed on stdout / stderr;
 * - "X" exit: JSON, `{code}`, `{code, before: true}` (the before script failed: no file was
 *   written, the script did not run) or `{error, errno, left}` (a file write failed; `left`
 *   are the partial files on the host).
 */

export type FrameKind = "R" | "D" | "K" | "H" | "O" | "E" | "X";

export interface Frame {
  readonly kind: FrameKind;
  readonly id: number;
  readonly body: Buffer;
}

/** What the agent says first; a different text is a different program. */
export const AGENT_HELLO = "webshare-agent 1";

/** Bytes of file content per data frame, so other requests' frames are never stuck behind a large file. */
export const DATA_CHUNK = 256 * 1024;

const FRAME_HEAD = 9;

export function encodeFrame(kind: FrameKind, id: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(FRAME_HEAD);
  head.writeUInt32BE(5 + body.length, 0);
  head.write(kind, 4, "latin1");
  head.writeUInt32BE(id, 5);
  return Buffer.concat([head, body]);
}

/** Splits the agent's byte stream into frames; a frame may arrive in many chunks, many frames in one. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readUInt32BE(0);
      if (size < 5) throw new Error(`not a command agent frame (length ${size})`);
      if (this.pending.length < 4 + size) break;
      frames.push({ kind: this.pending.toString("latin1", 4, 5) as FrameKind, id: this.pending.readUInt32BE(5), body: Buffer.from(this.pending.subarray(FRAME_HEAD, 4 + size)) });
      this.pending = this.pending.subarray(4 + size);
    }
    return frames;
  }
}

/** A file the agent writes before it runs the script. */
export interface AgentFileHead {
  readonly path: string;
  /** Mode it is created and chmod-ed with; absent = 0666 under the host's umask. */
  readonly mode?: number;
  /** Written to a temp file beside it, then renamed over it. */
  readonly atomic: boolean;
  readonly size: number;
}

export interface AgentRequestHead {
  /** Shell text run before the files are written (no stdin); absent = none. */
  readonly before?: string;
  /** Shell text for /bin/sh -c; absent = only write the files. */
  readonly script?: string;
  /** Bytes of stdin that follow first. */
  readonly stdin: number;
  readonly files: readonly AgentFileHead[];
}

/** The "R" frame of a request: its head and the first `data` bytes. */
export function encodeRequest(id: number, head: AgentRequestHead, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(head), "utf8");
  const size = Buffer.alloc(4);
  size.writeUInt32BE(json.length, 0);
  return encodeFrame("R", id, Buffer.concat([size, json, data]));
}

export type AgentExit = { readonly code: number; readonly before?: true } | { readonly error: string; readonly errno: string; readonly left: readonly string[] };

/** The body of an "X" frame (pure); throws on anything else. */
export function parseExit(body: Buffer): AgentExit {
  const value = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  if (typeof value?.code === "number") return value.before === true ? { code: value.code, before: true } : { code: value.code };
  if (typeof value?.error === "string") {
    const left = Array.isArray(value.left) ? value.left.filter((p): p is string => typeof p === "string") : [];
    return { error: value.error, errno: typeof value.errno === "string" ? value.errno : "", left };
  }
  throw new Error(`not a command agent exit: ${body.toString("utf8").slice(0, 200)}`);
}

/**
 * Where the agent's frames start in its stdout: after the first line that is exactly
 * `marker` (the login shell's startup files may print before it). `undefined` while the
 * marker has not come; then the caller keeps reading.
 */
export function afterMarker(output: Buffer, marker: string): Buffer | undefined {
  const line = Buffer.from(`${marker}\n`, "utf8");
  if (output.subarray(0, line.length).equals(line)) return output.subarray(line.length);
  const at = output.indexOf(Buffer.concat([Buffer.from("\n"), line]));
  return at < 0 ? undefined : output.subarray(at + 1 + line.length);
}
