import { z } from "zod";
import { resolvedConnection } from "./resolve";
import { WebshareError } from "../errors";

/**
 * The wire format between the connection broker and its clients, pure: one JSON message per
 * line (JSON.stringify escapes every newline inside strings, so a newline always ends a
 * message), requests carry an id that their reply repeats, so one client may have many
 * requests in flight. Nothing secret travels: a connection names its key file and the
 * passphrase VARIABLE, and the broker reads both itself.
 */

export { BROKER_ENV } from "./broker-env";
export { LineDecoder } from "./line-decoder";

const place = z.object({ unit: z.string(), target: z.string() });
const wireContent = z.union([z.object({ utf8: z.string() }), z.object({ base64: z.string() })]);
const command = { place, step: z.string(), script: z.string(), stdin: z.string().optional() };
/** Files to upload: local ones by absolute path (the broker reads them), generated ones by content. */
const wireFiles = z.array(z.union([z.object({ local: z.string(), remote: z.string(), mode: z.number().optional() }), z.object({ content: wireContent, remote: z.string(), mode: z.number().optional(), atomic: z.boolean().optional() })]));

const brokerRequest = z.discriminatedUnion("op", [
  // The first request of every client: bind it to the shared connection of this resolved
  // connection (the client resolved ssh config and known_hosts; key paths are absolute).
  z.object({ id: z.number(), op: z.literal("open"), connection: resolvedConnection }),
  z.object({ id: z.number(), op: z.literal("run"), ...command }),
  z.object({ id: z.number(), op: z.literal("runRaw"), ...command }),
  z.object({ id: z.number(), op: z.literal("writeFileAtomic"), place, step: z.string(), remotePath: z.string(), content: wireContent, mode: z.number().optional() }),
  z.object({ id: z.number(), op: z.literal("putFiles"), place, step: z.string(), files: wireFiles }),
  z.object({ id: z.number(), op: z.literal("runWithFiles"), ...command, before: z.string().optional(), files: wireFiles }),
]);
export type BrokerRequest = z.infer<typeof brokerRequest>;
/** Files of an upload as they cross the socket. */
export type RequestFiles = z.infer<typeof wireFiles>;
/** A request as the client builds it, before it gets its id. */
export type RequestBody = WithoutId<BrokerRequest>;
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** An error as it crosses the socket: enough to rebuild the same WebshareError text. */
export interface WireError {
  readonly message: string;
  readonly hint?: string;
  readonly detail?: string;
  readonly webshare: boolean;
}

export type BrokerReply = { readonly id: number; readonly ok: true; readonly value?: unknown } | { readonly id: number; readonly ok: false; readonly error: WireError };

/** What `open` answers: the session's identity and the warnings its connect printed. */
export interface OpenedSession {
  readonly target: string;
  readonly hostKey: string;
  /** `alias -> user@host:port via jump`. */
  readonly route?: string;
  readonly warnings: readonly string[];
}

export function encodeMessage(message: BrokerRequest | BrokerReply): string {
  return JSON.stringify(message) + "\n";
}

export function parseRequest(line: string): BrokerRequest {
  return brokerRequest.parse(JSON.parse(line));
}

export function parseReply(line: string): BrokerReply {
  const reply = JSON.parse(line) as BrokerReply;
  if (typeof reply?.id !== "number" || typeof reply.ok !== "boolean") throw new Error(`not a broker reply: ${line.slice(0, 200)}`);
  return reply;
}

export type WireContent = z.infer<typeof wireContent>;

export function toWireContent(content: string | Buffer): WireContent {
  return typeof content === "string" ? { utf8: content } : { base64: content.toString("base64") };
}

export function fromWireContent(wire: WireContent): string | Buffer {
  return "utf8" in wire ? wire.utf8 : Buffer.from(wire.base64, "base64");
}

export function toWireError(e: unknown): WireError {
  if (e instanceof WebshareError) return { message: e.message, hint: e.hint, detail: e.detail, webshare: true };
  return { message: e instanceof Error ? e.message : String(e), webshare: false };
}

export function fromWireError(wire: WireError): Error {
  return wire.webshare ? new WebshareError(wire.message, wire.hint, wire.detail) : new Error(wire.message);
}
