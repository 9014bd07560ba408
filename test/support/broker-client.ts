import { errorText } from "../../lib/errors";
import { isShared, openSession } from "../../lib/ssh/broker-client";
import type { ConnectionSpec } from "../../lib/spec";

/**
 * A stand-in provisioner for the broker tests: opens a session the way `webshare provision`
 * does (through WEBSHARE_SSH_BROKER when set), prints `opened`, runs argv[2] on the host and
 * prints one JSON line with the outcome. The connection comes as JSON in BROKER_TEST_CONNECTION.
 */
async function main(): Promise<void> {
  const connection = JSON.parse(process.env.BROKER_TEST_CONNECTION!) as ConnectionSpec;
  const place = { unit: "test/client", target: `${connection.user}@${connection.host}:${connection.port}` };
  try {
    const session = await openSession(connection, process.env);
    process.stdout.write("opened\n");
    try {
      const result = await session.run(place, "client command", process.argv[2]!);
      process.stdout.write(JSON.stringify({ shared: isShared(session), stdout: result.stdout }) + "\n");
    } finally {
      session.dispose();
    }
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: errorText(e) }) + "\n");
  }
}

void main();
