import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { HOST_DIR, httpGet, localHost, makeWheelhouse, resetHome, Target } from "../support/local-host";
import { HostSession } from "../../lib/ssh/session";
import type { ConnectionSpec } from "../../lib/spec";

/**
 * Deploying through a jump host (bastion) that the target is reachable ONLY through.
 *
 * The rule that makes a direct connection impossible: a second sshd for the target (same
 * host key, users and homes as the local host's) runs inside its own network namespace and
 * listens on that namespace's loopback, 127.0.0.1:TARGET_PORT, which no process outside
 * it can reach. The jump host's front door is 127.0.0.1:JUMP_PORT in the normal namespace;
 * each connection there is served by `sshd -i` started INSIDE the namespace, so the jump
 * host, and only it, can open a direct-tcpip channel to the target.
 */
// The jump host's front door is in the machine's own namespace, where another test run may
// be listening: a free port is picked by the bridge (0) unless WEBSHARE_JUMP_PORT names one.
let JUMP_PORT = Number(process.env.WEBSHARE_JUMP_PORT ?? "0");
const TARGET_PORT = Number(process.env.WEBSHARE_JUMP_TARGET_PORT ?? "2504");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-jump-"));
let target: Target;
let netns: ChildProcess;
let bridge: ChildProcess;
let project: CdktfProject;
let jumpFingerprint: string;
const sshConfig = path.join(dir, "ssh_config");
const knownHosts = path.join(dir, "known_hosts");
const jumpLog = path.join(dir, "jump-sshd.log");
const wheelhouse = path.join(dir, "wheels");

const inNetns = (args: string[]) => execFileSync("nsenter", ["-t", String(netns.pid), "-n", ...args], { stdio: ["ignore", "pipe", "inherit"] });

function waitForLine(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (b: Buffer) => ((out += b.toString()), out.includes(text) && resolve(out)));
    child.on("exit", (code) => reject(new Error(`exited ${code} before saying ${text}`)));
  });
}

beforeAll(async () => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  // A namespace held open by a sleeping process; its loopback must be brought up.
  netns = spawn("unshare", ["-n", "sleep", "3600"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  inNetns(["ip", "link", "set", "lo", "up"]);

  // The target's sshd inside it: the local host's config on another port.
  const hostConfig = fs.readFileSync(path.join(HOST_DIR, "sshd/sshd_config"), "utf8");
  const targetConfig = path.join(dir, "target_sshd_config");
  fs.writeFileSync(targetConfig, hostConfig.replace(/^Port .*$/m, `Port ${TARGET_PORT}`).replace(/^PidFile .*$/m, `PidFile ${dir}/target-sshd.pid`), { mode: 0o600 });
  inNetns(["/usr/sbin/sshd", "-f", targetConfig, "-E", path.join(dir, "target-sshd.log")]);

  // The jump host: its own host key, the same authorized users, forwarding only to the target.
  const jumpKey = path.join(dir, "jump_host_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", jumpKey]);
  jumpFingerprint = execFileSync("ssh-keygen", ["-lf", `${jumpKey}.pub`], { encoding: "utf8" }).split(" ")[1];
  const jumpConfig = path.join(dir, "jump_sshd_config");
  fs.writeFileSync(
    jumpConfig,
    [
      `HostKey ${jumpKey}`,
      `AllowUsers ${target.user}`,
      "PermitRootLogin no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "AuthorizedKeysFile .ssh/authorized_keys",
      "AllowTcpForwarding yes",
      `PermitOpen 127.0.0.1:${TARGET_PORT}`,
      "PermitTTY no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  bridge = spawn(process.execPath, [path.join(__dirname, "../support/jump-bridge.js"), String(JUMP_PORT), String(netns.pid), jumpConfig, jumpLog], { stdio: ["ignore", "pipe", "inherit"] });
  JUMP_PORT = Number(/ready (\d+)/.exec(await waitForLine(bridge, "\n"))?.[1]);
  if (!(JUMP_PORT > 0)) throw new Error("the jump bridge did not say which port it listens on");

  // What a platform team hands out: an ssh config with aliases and a hashed known_hosts.
  fs.writeFileSync(
    sshConfig,
    [
      "Host webshare-target",
      "  HostName 127.0.0.1",
      `  Port ${TARGET_PORT}`,
      `  User ${target.user}`,
      `  IdentityFile ${target.key}`,
      "  ProxyJump webshare-bastion",
      "Host webshare-bastion",
      "  HostName 127.0.0.1",
      `  Port ${JUMP_PORT}`,
      `  User ${target.user}`,
      "",
    ].join("\n"),
  );
  const targetPub = fs.readFileSync(path.join(HOST_DIR, "sshd/ssh_host_ed25519_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
  const jumpPub = fs.readFileSync(`${jumpKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${TARGET_PORT} ${targetPub}\n[127.0.0.1]:${JUMP_PORT} ${jumpPub}\n`);
  execFileSync("ssh-keygen", ["-H", "-f", knownHosts], { stdio: "ignore" });

  project = new CdktfProject(target, wheelhouse, "jump");
}, 180_000);

afterAll(() => {
  project?.remove();
  bridge?.kill();
  try {
    const pid = Number(fs.readFileSync(path.join(dir, "target-sshd.pid"), "utf8"));
    process.kill(pid);
  } catch {
    // not started
  }
  netns?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

const direct = (): ConnectionSpec => ({ host: "127.0.0.1", port: TARGET_PORT, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 5, connectAttempts: 1 });

test("the target cannot be reached directly: a connect and a deploy both fail", async () => {
  await expect(HostSession.open(direct(), process.env)).rejects.toThrow(`cannot connect to ${target.user}@127.0.0.1:${TARGET_PORT}: connect ECONNREFUSED`);
  const result = project.webshareDeploy({ WEBSHARE_PORT: String(TARGET_PORT), WEBSHARE_CONNECT_ATTEMPTS: "1" });
  expect(result.output).toContain(`cannot connect to ${target.user}@127.0.0.1:${TARGET_PORT}: connect ECONNREFUSED`);
  expect(result.code).not.toBe(0);
}, 180_000);

test("through the jump host given as props, each hop pinned, the target answers", async () => {
  const session = await HostSession.open({ ...direct(), jumpHosts: [{ host: "127.0.0.1", port: JUMP_PORT, hostKey: jumpFingerprint }] }, process.env);
  try {
    expect(session.hostKey).toBe(target.hostKey);
    expect(session.route).toBe(`${target.user}@127.0.0.1:${TARGET_PORT} via ${target.user}@127.0.0.1:${JUMP_PORT}`);
    const place = { unit: "t", target: session.target };
    expect((await session.run(place, "whoami", "id -un")).stdout.trim()).toBe(target.user);
  } finally {
    session.dispose();
  }
});

test("a jump host presenting another key than pinned is refused, naming the jump host", async () => {
  const wrong = "SHA256:" + "J".repeat(43);
  await expect(HostSession.open({ ...direct(), jumpHosts: [{ host: "127.0.0.1", port: JUMP_PORT, hostKey: wrong }] }, process.env)).rejects.toThrow(
    `host key verification failed for ${target.user}@127.0.0.1:${JUMP_PORT}: the host presented ${jumpFingerprint}, but ${wrong} is pinned`,
  );
});

test("webshare deploy by ssh config alias + hashed known_hosts: the route is shown, one jump login for both units, the app serves", async () => {
  const loginsBefore = fs.existsSync(jumpLog) ? fs.readFileSync(jumpLog, "utf8").split("Accepted publickey").length : 1;
  const result = project.webshareDeploy({
    WEBSHARE_HOST: "webshare-target",
    WEBSHARE_PORT: "",
    WEBSHARE_USER: "",
    WEBSHARE_KEY: "",
    WEBSHARE_HOST_KEY: "",
    WEBSHARE_SSH_CONFIG: sshConfig,
    WEBSHARE_KNOWN_HOSTS: knownHosts,
  });
  expect(result.output).toContain(`connect (webshare-target -> ${target.user}@127.0.0.1:${TARGET_PORT} via ${target.user}@127.0.0.1:${JUMP_PORT}, shared connection)`);
  expect(result.code).toBe(0);
  expect(result.output).toMatch(/\(total \d+\.\ds; 1 SSH connection; \d+ units? run in this process\)/);
  const logins = fs.readFileSync(jumpLog, "utf8").split("Accepted publickey").length - loginsBefore;
  expect(logins).toBe(1);
  expect((await httpGet(target.url)).body).toContain("greeting 1.0.0");
}, 300_000);
