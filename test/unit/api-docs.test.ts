import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocComment } from "../../lib/api-docs";
import { buildApiReference } from "../../scripts/api-docs";

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
