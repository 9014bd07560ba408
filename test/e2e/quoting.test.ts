import fc from "fast-check";
import { HostSession } from "../../lib/ssh/session";
import { commandLine } from "../../lib/shell";
import { localHost, Target } from "../support/local-host";

/**
 * Every value in a remote command goes through one quoting function. Here random strings
 * (all shell metacharacters, quotes, newlines, non-ASCII) are passed as arguments over a
 * real SSH session to the host's shell, which prints them back NUL-separated: each must
 * arrive byte for byte.
 */
let target: Target;
let session: HostSession;
const place = { unit: "quoting-test", target: "local host" };

beforeAll(async () => {
  target = localHost().managed;
  session = await HostSession.open({
    host: target.host, port: target.port, user: target.user, privateKeyPath: target.key,
    useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10,
  }, process.env);
}, 60_000);

afterAll(() => session?.dispose());

async function echoedByHost(values: string[]): Promise<string[]> {
  const result = await session.run(place, "echo", commandLine(["printf", "%s\\0", ...values]));
  return result.stdout.split("\0").slice(0, -1);
}

const shellMeta = fc.constantFrom(..."'\"`$\\!*?[]{}()<>|&;#~ \t\n\r=%^".split(""), "$(id)", "${HOME}", "'\\''", "\u00e9", "\u2603", "\ud83d\ude00", "-n", "--");
/** Strings without NUL (no argv can carry one) that survive UTF-8 (no lone surrogates). */
const value = fc.array(fc.oneof(shellMeta, fc.string({ unit: "binary", maxLength: 8 })), { maxLength: 6 })
  .map((parts) => parts.join(""))
  .filter((s) => !s.includes("\0") && Buffer.from(s, "utf8").toString("utf8") === s);

test("property: values arrive byte for byte through SSH and the remote shell", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 5 }), async (values) => {
      expect(await echoedByHost(values)).toEqual(values);
    }),
    { numRuns: 150 },
  );
});

test("a value that would run a command if pasted unquoted is inert", async () => {
  const marker = `/tmp/webshare-quoting-${process.pid}`;
  const values = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, `\ntouch ${marker}`];
  expect(await echoedByHost(values)).toEqual(values);
  const check = await session.runRaw(place, "check", commandLine(["test", "-e", marker]));
  expect(check.code).toBe(1);
});
