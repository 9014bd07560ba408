import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { allOf, commandLine, quote } from "../../lib/shell";

/** Run shell text in a real /bin/sh and return what each argument arrived as. */
function argsSeenByShell(values: string[]): string[] {
  const script = `${commandLine(["printf", "%s\\0", ...values])}`;
  const out = execFileSync("/bin/sh", ["-c", script], { encoding: "buffer" });
  return out.toString("utf8").split("\0").slice(0, -1);
}

describe("quote", () => {
  test.each([
    ["plain", "plain"],
    ["/home/u/public", "/home/u/public"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", "'it'\\''s'"],
    ["$(rm -rf ~)", "'$(rm -rf ~)'"],
  ])("%j -> %s", (input, expected) => {
    expect(quote(input)).toBe(expected);
  });

  test("refuses NUL bytes, which no argv can carry", () => {
    expect(() => quote("a\0b")).toThrow(/NUL/);
  });

  test("hostile values arrive byte for byte in a real shell", () => {
    const hostile = ["a b", "'", '"', "`id`", "$(id)", "${HOME}", "a;b", "a\nb", "\\", "*", "~", "-rf", "ünïcødé ✓", "\t", "!", "#x", "a|b&c>d<e"];
    expect(argsSeenByShell(hostile)).toEqual(hostile);
  });

  test("property: any string without NUL arrives unchanged", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")), { minLength: 1, maxLength: 5 }), (values) => {
        expect(argsSeenByShell(values)).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  test("allOf chains with && so the first failure stops the rest", () => {
    expect(allOf([["mkdir", "-p", "a b"], ["touch", "x"]])).toBe("mkdir -p 'a b' && touch x");
    const out = execFileSync("/bin/sh", ["-c", `${allOf([["false"], ["echo", "ran"]])} || echo stopped`], { encoding: "utf8" });
    expect(out.trim()).toBe("stopped");
  });
});
