import { utils, type AuthenticationType, type AuthHandlerMiddleware, type Client, type ParsedKey } from "ssh2";

/**
 * A key login two network round trips shorter than ssh2's own (issue 17: on a 100 ms link a
 * login is 0.2 s faster, and the first unit of a deploy waits for it).
 *
 * ssh2 asks for the user-auth service and waits for the answer (1 round trip), then asks
 * whether the key would do (RFC 4252 7, the query: 1 round trip), then sends the signature
 * (1 round trip). Here the signed request goes out right behind the service request, as soon
 * as the key exchange is done: the session id it signs is known then, RFC 4252 allows a
 * signed request without the query, and the server reads its packets in order, so it
 * handles the request once it has accepted the service (OpenSSH sets its user-auth handler
 * before it sends the accept).
 *
 * ssh2 has no option for this, so it uses two things of ssh2 1.x that are not its public
 * API: the client's `_protocol` (its `authPK` with a signing callback is what ssh2 itself
 * calls after the query) and the protocol's message handlers (a refused early request must
 * not reach ssh2's failure handler, which expects an attempt of its own). `loginAhead`
 * checks both are there and otherwise leaves the login to ssh2. Only keys with one signature
 * algorithm (Ed25519, ECDSA): an RSA key's algorithm depends on the server's answer
 * (server-sig-algs), so RSA logs in ssh2's way.
 */

/** The parts of ssh2's client protocol used here (ssh2 1.x, lib/protocol/Protocol.js). */
interface ProtocolInternals {
  authPK(username: string, key: ParsedKey, keyAlgo: string | undefined, sign: (data: Buffer, done: (signature: Buffer) => void) => void): void;
  _handlers: Record<string, ((...args: unknown[]) => void) | undefined>;
}

/** Where the early request is: not sent, sent and unanswered, or answered. */
export type AheadState = "off" | "pending" | "sent" | "accepted" | "refused";

export interface LoginAhead {
  /** ssh2's `authHandler` (key first, then `rest`); the early request stands for the key's turn. */
  readonly authHandler: AuthHandlerMiddleware;
  /**
   * Send the early request on this client, whose `connect()` has just been called (before
   * any data arrived). False when it cannot (ssh2 then logs in its own way).
   */
  arm(client: Client): boolean;
  /** What became of the early request. */
  state(): AheadState;
}

/**
 * The key login for ssh2's `authHandler`, early when armed. Undefined for a key that must log
 * in ssh2's way (RSA, or one that does not parse: ssh2 names the problem).
 */
export function loginAhead(username: string, privateKey: string, passphrase: string | undefined, rest: readonly AuthenticationType[]): LoginAhead | undefined {
  const key = utils.parseKey(privateKey, passphrase);
  if (key instanceof Error || !key.isPrivateKey() || key.type === "ssh-rsa") return undefined;
  let state: AheadState = "pending";
  // ssh2's list, key first: the early request takes the key's turn.
  const queue: AuthenticationType[] = ["publickey", ...rest];
  const nextMethod = (): AuthenticationType | false => queue.shift() ?? false;
  // ssh2 asks the handler for a method once the service is accepted; held until the early
  // request is answered (a refusal moves on to `rest`, a success needs nothing more).
  let waiting: ((next: AuthenticationType | false) => void) | undefined;

  // ssh2 takes `false` for "no method left" (its list handler's end), not in its types.
  const authHandler: AuthHandlerMiddleware = (_left, _partial, next) => {
    const answer = next as (n: AuthenticationType | false) => void;
    // Asked before the early request went out (not armed): ssh2 tries the key itself.
    if (state === "pending") state = "off";
    if (state === "sent") waiting = answer; // answered with the early request's reply
    else answer(nextMethod());
  };

  const arm = (client: Client): boolean => {
    const proto = (client as unknown as { _protocol?: Partial<ProtocolInternals> })._protocol;
    const handlers = proto?._handlers;
    const success = handlers?.USERAUTH_SUCCESS;
    const failure = handlers?.USERAUTH_FAILURE;
    if (state !== "pending" || typeof proto?.authPK !== "function" || handlers === undefined || success === undefined || failure === undefined) return false;
    const internals = proto as ProtocolInternals;
    client.once("handshake", () => {
      // After ssh2's own service request, which follows this event in the same call.
      queueMicrotask(() => {
        if (state !== "pending") return;
        try {
          internals.authPK(username, key, undefined, (data, done) => done(key.sign(data)));
        } catch {
          state = "off"; // nothing sent: ssh2 tries the key its own way
          return;
        }
        queue.shift();
        state = "sent";
      });
    });
    handlers.USERAUTH_SUCCESS = (...args) => {
      if (state === "sent") state = "accepted";
      success(...args);
    };
    handlers.USERAUTH_FAILURE = (...args) => {
      if (state !== "sent") return failure(...args);
      state = "refused";
      const hold = waiting;
      waiting = undefined;
      hold?.(nextMethod());
    };
    return true;
  };
  return { authHandler, arm, state: () => state };
}
