// Snapshots live in __snapshots__/ at the top level, named after the TypeScript test file.
const path = require("path");
const root = path.resolve(__dirname, "..");
const snapDir = path.join(root, "__snapshots__");
module.exports = {
  resolveSnapshotPath: (testPath, ext) =>
    path.join(snapDir, path.basename(testPath).replace(/\.js$/, ".ts") + ext),
  resolveTestPath: (snapPath, ext) =>
    path.join(root, "dist", "test", "synth", path.basename(snapPath, ext).replace(/\.ts$/, ".js")),
  testPathForConsistencyCheck: path.join(root, "dist", "test", "synth", "example.test.js"),
};
