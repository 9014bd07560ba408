// Jest globalSetup: give this test run an id that its workers inherit (they start after this).
// test/support/local-host.ts writes it into the mark of a host the run starts, and
// test/stop-hosts.js stops only a host whose mark carries ITS id: another jest run on the same
// machine (a unit-only run, a second working copy) never stops a host it did not start.
const { randomBytes } = require("node:crypto");

module.exports = async function setRunId() {
  process.env.WEBSHARE_TEST_RUN_ID = `${process.pid}-${randomBytes(6).toString("hex")}`;
};
