import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostSession } from "../../lib/ssh/session";
import type { ConnectionSpec } from "../../lib/spec";
import { BROKER_ENV } from "../../lib/ssh/broker-protocol";
import { resolveConnection, type ResolvedConnection } from "../../lib/ssh/resolve";
import { openHostSession } from "../../lib/host/open";
import { onHostOf } from "../../lib/host/each-host";
import { LocalShellSession, tempHome } from "../support/local-shell-session";
import { venvSpec } from "./drift-fixtures";

/**
 * lib/host: the one place commands get a session from. Which way it connects (direct, or
 * the broker of a `webshare deploy` run), and that the command's own environment (not
 * process.env) reaches the connect and every step.
 */
const connection: ConnectionSpec = { host: "web.example", port: 22, user: "www", useAgent: false, hostKey: "SHA256:x", connectTimeoutSeconds: 30 };
const noBroker = { [BROKER_ENV]: path.join(os.tmpdir(), `webshare-no-broker-${process.pid}.sock`) };
let home: string;
let direct: ConnectionSpec[];
let resolved: ResolvedConnection[];

beforeEach(() => {
  home = tempHome("webshare-host-access");
  direct = [];
  resolved = [];
  jest.spyOn(HostSession, "open").mockImplementation(async (spec: ConnectionSpec) => {
    direct.push(spec);
    return new LocalShellSession(home) as unknown as HostSession;
  });
  jest.spyOn(HostSession, "openResolved").mockImplementation(async (r: ResolvedConnection) => {
    resolved.push(r);
    return new LocalShellSession(home) as unknown as HostSession;
  });
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(home, { recursive: true, force: true });
});

test("a command connects directly even when its environment names a broker; a provisioner asks the broker, and says so when it is gone", async () => {
  const lines: string[] = [];
  (await openHostSession(connection, { env: noBroker, warn: (l) => lines.push(l) })).dispose();
  expect(direct).toEqual([connection]);
  expect(lines).toEqual([]);

  (await openHostSession(connection, { env: noBroker, warn: (l) => lines.push(l), shared: true })).dispose();
  expect(lines).toEqual([expect.stringMatching(new RegExp(`the SSH connection broker \\(${noBroker[BROKER_ENV]}\\) is not reachable \\(ENOENT\\); connecting to www@web.example:22 directly`))]);
  expect(resolved.map((r) => r.target.target)).toEqual(["www@web.example:22"]);
});

test("a quick session (the host-lock release after Ctrl+C) makes one attempt of at most 10 s", async () => {
  (await openHostSession({ ...connection, connectAttempts: 4 }, { env: {}, warn: () => undefined, quick: true })).dispose();
  (await openHostSession({ ...connection, connectTimeoutSeconds: 5 }, { env: {}, warn: () => undefined, quick: true })).dispose();
  expect(direct.map((c) => [c.connectAttempts, c.connectTimeoutSeconds])).toEqual([
    [1, 10],
    [1, 5],
  ]);
});

test("the command's environment and log reach the step", async () => {
  const lines: string[] = [];
  const env = { ONLY_HERE: "yes" };
  const spec = venvSpec({ unit: "site/venv" });
  const seen = await onHostOf(spec, { cwd: "/", env, write: () => undefined, log: (l) => lines.push(l) }, "webshare test", async (ctx) => {
    await ctx.progress.step("look", async () => undefined);
    return { env: ctx.env, instance: ctx.instance, place: ctx.place };
  });
  expect(seen).toEqual({ env, instance: "webshare test", place: { unit: "site/venv", target: "www@web.example:22" } });
  expect(lines).toEqual([expect.stringMatching(/^\[site\/venv\] look \d/)]);
  expect(direct).toHaveLength(1);
});

test("without a passwd entry the local user comes from the command's USER, not the process's", () => {
  // The module object itself (resolve.ts reads it through its import): `import * as` gives a frozen view.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  jest.spyOn(require("node:os") as typeof os, "userInfo").mockImplementation(() => {
    throw new Error("no passwd entry");
  });
  const { user: _, ...noUser } = connection;
  // With an ssh config and no User anywhere, ssh logs in as the local user.
  const resolved = resolveConnection({ ...noUser, sshConfigFile: "/etc/webshare-test/ssh_config" }, { env: { USER: "alice" }, home: "/home/nobody", readFile: () => "Host other.example\n  User bob\n" });
  expect(resolved.target.target).toBe("alice@web.example:22");
});
