// Jest globalTeardown: stop the local host if THIS test run started it (test/support/local-host.ts
// leaves a mark with the run's id, set by test/run-id.js, in its state dir), so a test run leaves
// no sshd or Apache behind and never stops one that another run started and still uses. Plain
// JavaScript like snapshot-resolver.js: jest loads it from the source tree, not from dist.
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

module.exports = async function stopHosts() {
  const hostDir = process.env.WEBSHARE_HOST_DIR ?? "/var/tmp/webshare-host";
  const mark = path.join(hostDir, "started-by-tests");
  let owner;
  try {
    owner = fs.readFileSync(mark, "utf8").trim();
  } catch {
    return; // not started by a test run
  }
  if (owner !== process.env.WEBSHARE_TEST_RUN_ID) return;
  execFileSync("bash", [path.join(__dirname, "..", "scripts", "host", "down.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  fs.rmSync(mark, { force: true });
};
