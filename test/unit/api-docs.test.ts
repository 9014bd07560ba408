import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocComment } from "../../lib/api-docs";
import { buildApiReference, runApiExtractor } from "../../scripts/api-docs";

test("parseDocComment reads the summary and @default, one-line or multi-line", () => {
  expect(parseDocComment("/** Daemon processes. @default 2 */")).toEqual({ summary: "Daemon processes.", tags: { default: "2" } });
  expect(parseDocComment("/**\n * Where it goes.\n * More words.\n *\n * @default - the host layout's venv\n */\n")).toEqual({
    summary: "Where it goes. More words.",
    tags: { default: "- the host layout's venv" },
  });
});

test("every public prop has a description and a default, and docs/api.md is current", () => {
  const { markdown, problems } = buildApiReference();
  expect(problems).toEqual([]);
  expect(markdown).toContain("| `mount` | `string` | \"/\" | URL path the app is mounted at. |");
  expect(fs.readFileSync(path.resolve(__dirname, "../../../docs/api.md"), "utf8")).toBe(markdown); // run `npm run docs:api` after changing TSDoc
});

test("a type the public API names but the entry point does not export fails the docs build (ae-forgotten-export)", () => {
  // This repository's api-extractor.json, pointed at a package whose entry point forgets an export.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-forgotten-export-"));
  try {
    const config = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../api-extractor.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "probe", version: "1.0.0" }));
    fs.writeFileSync(path.join(dir, "hidden.d.ts"), "export interface Hidden { readonly a: string }\n");
    fs.writeFileSync(path.join(dir, "index.d.ts"), 'import type { Hidden } from "./hidden";\nexport declare function f(h: Hidden): void;\n');
    config.projectFolder = dir;
    config.mainEntryPointFilePath = "<projectFolder>/index.d.ts";
    config.compiler.overrideTsconfig.files = ["index.d.ts"];
    config.docModel.apiJsonFilePath = "<projectFolder>/probe.api.json";
    fs.writeFileSync(path.join(dir, "api-extractor.json"), JSON.stringify(config));
    expect(() => runApiExtractor(path.join(dir, "api-extractor.json"), dir)).toThrow(/ae-forgotten-export\) The symbol "Hidden"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
