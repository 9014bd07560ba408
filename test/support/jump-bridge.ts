import * as net from "node:net";
import { spawn } from "node:child_process";

/**
 * The jump host's front door, run as its own process (a test's deploy blocks the test's
 * event loop): listens on 127.0.0.1:PORT and hands each connection to `sshd -i` started
 * inside the network namespace of NETNS_PID, the only place the target sshd listens.
 * Usage: node jump-bridge.js PORT NETNS_PID SSHD_CONFIG SSHD_LOG (PORT 0: a free one); it
 * prints `ready PORT` once it listens.
 */
const [port, netnsPid, config, log] = process.argv.slice(2);
const server = net.createServer((socket) => {
  const sshd = spawn("nsenter", ["-t", netnsPid, "-n", "/usr/sbin/sshd", "-i", "-f", config, "-E", log], { stdio: ["pipe", "pipe", "ignore"] });
  socket.pipe(sshd.stdin);
  sshd.stdout.pipe(socket);
  socket.on("error", () => sshd.kill());
  socket.on("close", () => sshd.kill());
  sshd.on("exit", () => socket.destroy());
  sshd.stdin.on("error", () => undefined);
});
server.listen(Number(port), "127.0.0.1", () => process.stdout.write(`ready ${(server.address() as net.AddressInfo).port}\n`));
process.on("SIGTERM", () => process.exit(0));
