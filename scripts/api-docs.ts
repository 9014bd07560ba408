/**
 * `npm run docs:api`: run api-extractor on the compiled declarations and write docs/api.md.
 * With --check, fail instead when docs/api.md is out of date or a public prop lacks TSDoc.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderApiReference, undocumentedProps } from "../lib/api-docs";

const REPO = path.resolve(__dirname, "..", "..");

/** Run api-extractor with a config; an error it reports (e.g. ae-forgotten-export) throws, naming it. */
export function runApiExtractor(config: string, cwd: string): void {
  try {
    execFileSync(path.join(REPO, "node_modules/.bin/api-extractor"), ["run", "--local", "-c", config], { cwd, stdio: "pipe" });
  } catch (e) {
    // An error message (e.g. ae-forgotten-export: a public signature names a type index.ts does not export).
    const output = `${(e as { stdout?: Buffer }).stdout ?? ""}${(e as { stderr?: Buffer }).stderr ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "");
    throw new Error(`api-extractor failed:\n${output.split("\n").filter((line) => /error/i.test(line)).join("\n") || output}`);
  }
}

export function buildApiReference(): { markdown: string; problems: string[] } {
  runApiExtractor(path.join(REPO, "api-extractor.json"), REPO);
  const model = JSON.parse(fs.readFileSync(path.join(REPO, "dist/api/webshare-cdktf.api.json"), "utf8"));
  return { markdown: renderApiReference(model), problems: undocumentedProps(model) };
}

if (require.main === module) {
  const { markdown, problems } = buildApiReference();
  const target = path.join(REPO, "docs/api.md");
  if (process.argv.includes("--check")) {
    const stale = !fs.existsSync(target) || fs.readFileSync(target, "utf8") !== markdown;
    for (const p of problems) process.stderr.write(`undocumented: ${p}\n`);
    if (stale) process.stderr.write("docs/api.md is out of date: run npm run docs:api\n");
    process.exit(stale || problems.length > 0 ? 1 : 0);
  }
  fs.writeFileSync(target, markdown);
  for (const p of problems) process.stderr.write(`undocumented: ${p}\n`);
  process.stdout.write(`wrote docs/api.md${problems.length > 0 ? ` (${problems.length} undocumented props)` : ""}\n`);
}
