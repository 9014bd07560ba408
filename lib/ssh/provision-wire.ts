/**
 * The "provision" conversation on the broker's socket, pure and without imports (the thin
 * client reads it before any heavy module loads). Under `webshare deploy` a provisioner
 * process no longer runs its unit: it asks the broker (the deploy process, which has every
 * module loaded already) to run it, and relays what comes back.
 *
 * Client -> broker, one JSON object per line:
 *   {"op":"provision","action","env","cwd","pid"}  first line: the unit's whole environment
 *     (the socket is in a 0700 directory of this user on this machine; nothing leaves it),
 *     its working directory and the client's pid
 *   {"op":"interrupt","reason"}  the client was interrupted: run the unit's cleanup
 * Broker -> client:
 *   {"t":"accepted"} | {"t":"declined","reason"}  first frame; declined: run it yourself
 *   {"t":"out","text"} | {"t":"err","text"}  the unit's standard output / error, as written
 *   {"t":"exit","code"}  last frame: the exit code the provisioner process exits with
 * A broker that does not know "provision" (an older one) closes the socket without a frame,
 * which the client takes as "declined".
 */

export interface ProvisionRequest {
  readonly op: "provision";
  readonly action: "create" | "destroy";
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly pid: number;
}

export interface InterruptRequest {
  readonly op: "interrupt";
  readonly reason: string;
}

export type ProvisionClientMessage = ProvisionRequest | InterruptRequest;

export type ProvisionFrame =
  | { readonly t: "accepted" }
  | { readonly t: "declined"; readonly reason: string }
  | { readonly t: "out"; readonly text: string }
  | { readonly t: "err"; readonly text: string }
  | { readonly t: "exit"; readonly code: number };

/** One message, one line (JSON.stringify escapes every newline inside strings). */
export function encodeLine(message: ProvisionClientMessage | ProvisionFrame): string {
  return JSON.stringify(message) + "\n";
}

/** The environment as it crosses the socket: only the variables that are set. */
export function wireEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringRecord = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === "string");

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a broker client's first line asks for "provision" (the other requests are broker-protocol.ts's). */
export function isProvisionLine(line: string): boolean {
  return parseObject(line)?.op === "provision";
}

/** A client message, or an Error saying what is wrong with the line. */
export function parseClientMessage(line: string): ProvisionClientMessage | Error {
  const m = parseObject(line);
  if (m === undefined) return new Error("not a JSON object");
  if (m.op === "interrupt") return typeof m.reason === "string" ? { op: "interrupt", reason: m.reason } : new Error("interrupt without a reason");
  if (m.op !== "provision") return new Error(`unknown op ${JSON.stringify(m.op)}`);
  if (m.action !== "create" && m.action !== "destroy") return new Error(`unknown action ${JSON.stringify(m.action)}`);
  if (!isStringRecord(m.env)) return new Error("env must map names to strings");
  if (typeof m.cwd !== "string" || !m.cwd.startsWith("/")) return new Error("cwd must be an absolute path");
  if (typeof m.pid !== "number" || !Number.isInteger(m.pid) || m.pid <= 0) return new Error("pid must be a positive integer");
  return { op: "provision", action: m.action, env: m.env, cwd: m.cwd, pid: m.pid };
}

/** A broker frame, or undefined for a line that is none (the client then counts the broker as gone). */
export function parseFrame(line: string): ProvisionFrame | undefined {
  const m = parseObject(line);
  if (m === undefined) return undefined;
  switch (m.t) {
    case "accepted":
      return { t: "accepted" };
    case "declined":
      return typeof m.reason === "string" ? { t: "declined", reason: m.reason } : undefined;
    case "out":
    case "err":
      return typeof m.text === "string" ? { t: m.t, text: m.text } : undefined;
    case "exit":
      return typeof m.code === "number" && Number.isInteger(m.code) ? { t: "exit", code: m.code } : undefined;
    default:
      return undefined;
  }
}
