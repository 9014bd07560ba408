import { parseRequirements } from "../../lib/requirements";
import { capped, cell, code, codeCell, table } from "../../lib/summary/markdown";
import { diffRequirementEntries, diffRequirementLines } from "../../lib/summary/requirements-diff";
import { packageSummaryLine, renderRequirementsDiff } from "../../lib/summary/render";

const entries = (text: string) => {
  const parsed = parseRequirements(text);
  expect(parsed.errors).toEqual([]);
  return parsed.entries;
};

describe("diffRequirementLines", () => {
  test("pairs lines of the same package as changed; order does not matter", () => {
    expect(diffRequirementLines(["flask>=2", "requests", "# note"], ["requests", "Flask>=3,<4", "click"])).toEqual([
      { change: "added", name: "click", to: "click" },
      { change: "changed", name: "flask", from: "flask>=2", to: "Flask>=3,<4" },
    ]);
  });

  test("identical lists have no changes, and whitespace differences do not count", () => {
    expect(diffRequirementLines(["a>=1", "b"], ["b", "a>=1"])).toEqual([]);
    expect(diffRequirementLines(["a >=1 ;  python_version >= '3.8'"], ["a >=1 ; python_version >= '3.8'"])).toEqual([]);
  });

  test("a requirement continued over several lines (hashes) is one requirement", () => {
    const h1 = "sha256:" + "a".repeat(64);
    const h2 = "sha256:" + "b".repeat(64);
    expect(diffRequirementLines(["x==1.0 \\", `--hash=${h1}`], ["x==1.1 \\", `--hash=${h2}`])).toEqual([
      { change: "changed", name: "x", from: `x==1.0 --hash=${h1}`, to: `x==1.1 --hash=${h2}` },
    ]);
  });

  test("option lines and unparsable lines are compared as text, unpaired", () => {
    expect(diffRequirementLines(["--index-url https://a.example/simple", "not a requirement"], ["--index-url https://b.example/simple"])).toEqual([
      { change: "removed", from: "--index-url https://a.example/simple" },
      { change: "added", to: "--index-url https://b.example/simple" },
      { change: "removed", from: "not a requirement" },
    ]);
  });
});

describe("diffRequirementEntries (webshare diff)", () => {
  test("pins diff as versions with change kinds; ranges and options as lines", () => {
    const diff = diffRequirementEntries(
      entries("flask==2.3.3\nwerkzeug==2.3.8\nclick==8.1.7\nitsdangerous==2.1.2\nrequests>=2\n--index-url https://pypi.example/simple\n"),
      entries("Flask==3.0.3\nwerkzeug==2.3.9\nclick==8.0.0\nblinker==1.8.2\nrequests>=2.31\nmylib @ https://example.com/mylib-1.0-py3-none-any.whl\n"),
    );
    expect(diff.packages.upgraded).toEqual([
      { name: "flask", from: "2.3.3", to: "3.0.3", changeKind: "major" },
      { name: "werkzeug", from: "2.3.8", to: "2.3.9", changeKind: "patch" },
    ]);
    expect(diff.packages.downgraded).toEqual([{ name: "click", from: "8.1.7", to: "8.0.0", changeKind: "minor" }]);
    expect(diff.packages.added.map((p) => p.name)).toEqual(["blinker", "mylib"]);
    expect(diff.packages.removed).toEqual([{ name: "itsdangerous", version: "2.1.2" }]);
    expect(diff.requirements).toEqual([
      { change: "removed", from: "--index-url https://pypi.example/simple" },
      { change: "changed", name: "requests", from: "requests>=2", to: "requests>=2.31" },
    ]);
    expect(diff.hasChanges).toBe(true);
  });

  test("a pin that becomes a URL is a source change", () => {
    const diff = diffRequirementEntries(entries("x==1.0\n"), entries("x @ git+https://example.com/x.git@v2\n"));
    expect(diff.packages.changedSource).toEqual([{ name: "x", from: "1.0", to: "@ git+https://example.com/x.git@v2" }]);
  });

  test("renders a table per change and a one-line summary", () => {
    const diff = diffRequirementEntries(entries("a==1.0\nb==2.0\nc==1.0\n"), entries("a==1.1\nb==1.0\nd==0.1\n"));
    expect(renderRequirementsDiff(diff, "git:main:requirements.lock", "requirements.lock")).toBe(
      [
        "**Packages: `git:main:requirements.lock` → `requirements.lock`**",
        "",
        "| Package | Change | From | To |",
        "|---|---|---|---|",
        "| `a` | upgraded (minor) | `1.0` | `1.1` |",
        "| `b` | downgraded (**major**) | `2.0` | `1.0` |",
        "| `d` | added |  | `0.1` |",
        "| `c` | removed | `1.0` |  |",
        "",
        "4 package changes: 1 upgraded (1 minor), 1 downgraded (1 major), 1 added, 1 removed.",
        "",
      ].join("\n"),
    );
  });

  test("no changes says so", () => {
    const diff = diffRequirementEntries(entries("a==1.0\n"), entries("a==1.0.0\n"));
    expect(renderRequirementsDiff(diff, "old", "new").trim().split("\n").pop()).toBe("No package changes (1 unchanged).");
  });
});

describe("packageSummaryLine", () => {
  test("counts upgrades by kind", () => {
    const diff = diffRequirementEntries(entries("a==1.0\nb==1.0\nc==1.0\nd==1.0\n"), entries("a==2.0\nb==3.0\nc==1.1\nd==1.0\n")).packages;
    expect(packageSummaryLine(diff)).toBe("3 package changes: 3 upgraded (2 major, 1 minor); 1 unchanged.");
  });
});

describe("markdown helpers", () => {
  test("cells escape pipes, backslashes and line breaks", () => {
    expect(cell("a|b\\c\nd")).toBe("a\\|b\\\\c d");
    expect(codeCell("x|y")).toBe("`x\\|y`");
  });

  test("code spans survive backticks", () => {
    expect(code("plain")).toBe("`plain`");
    expect(code("a`b")).toBe("``a`b``");
    expect(code("`x")).toBe("`` `x ``");
    expect(code("")).toBe('`""`');
  });

  test("a file named with a pipe stays in its table cell", () => {
    const [, , row] = table(["File"], [[codeCell("a|b.txt")]]);
    expect(row).toBe("| `a\\|b.txt` |");
  });

  test("capped lists say how many more", () => {
    expect(capped([1, 2, 3], 2, String, (n) => `+${n}`)).toEqual(["1", "2", "+1"]);
    expect(capped([1, 2], 2, String, (n) => `+${n}`)).toEqual(["1", "2"]);
  });
});
