// Tests are compiled by tsc first (TypeScript 7 has no in-process transformer for jest),
// so jest runs the JavaScript in dist/test and keeps snapshots in the top-level __snapshots__/.
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  transform: {},
  snapshotResolver: "<rootDir>/test/snapshot-resolver.js",
  testTimeout: 120000,
  // Stop the local host the end-to-end tests of this run started (they start it on first use).
  globalSetup: "<rootDir>/test/run-id.js",
  globalTeardown: "<rootDir>/test/stop-hosts.js",
};
