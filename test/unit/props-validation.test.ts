import { z } from "zod";
import { check } from "../../lib/props-validation";
import { plural } from "../../lib/plural";

/** The problem lines for one value against one schema. */
function problems(schema: z.ZodType, input: unknown): string[] {
  const result = check(schema, input);
  if (result.ok) throw new Error("expected a problem");
  return result.problems;
}

describe("zod issues in plain words", () => {
  test.each<[string, z.ZodType, unknown, string]>([
    ["invalid_type", z.object({ port: z.number() }), { port: "22" }, 'port must be a number (got the string "22")'],
    ["invalid_type (int)", z.object({ n: z.int() }), { n: 1.5 }, "n must be a whole number (got the number 1.5)"],
    ["invalid_type (object)", z.object({ o: z.object({}) }), { o: [1] }, "o must be an object (got a list ([1]))"],
    ["invalid_type (boolean)", z.object({ b: z.boolean() }), { b: "yes" }, 'b must be true or false (got the string "yes")'],
    ["missing", z.object({ user: z.string() }), {}, "user is required (it must be a string)"],
    ["too_small (empty string)", z.object({ s: z.string().min(1) }), { s: "" }, 's "" must not be empty'],
    ["too_small (string)", z.object({ s: z.string().min(3) }), { s: "ab" }, 's "ab" must have at least 3 characters'],
    ["too_small (array)", z.object({ a: z.array(z.string()).min(2) }), { a: ["x"] }, 'a ["x"] must have at least 2 items'],
    ["too_small (exclusive)", z.object({ n: z.number().gt(3) }), { n: 3 }, "n 3 must be greater than 3"],
    ["too_big (number)", z.object({ n: z.number().max(9) }), { n: 10 }, "n 10 must be at most 9"],
    ["too_big (string)", z.object({ s: z.string().max(1) }), { s: "ab" }, 's "ab" must have at most 1 character'],
    ["too_big (exact)", z.object({ s: z.string().length(2) }), { s: "abc" }, 's "abc" must have exactly 2 characters'],
    ["invalid_format (starts_with)", z.object({ m: z.string().startsWith("/") }), { m: "app" }, 'm "app" must start with "/"'],
    ["invalid_format (ends_with)", z.object({ m: z.string().endsWith(".txt") }), { m: "a" }, 'm "a" must end with ".txt"'],
    ["invalid_format (includes)", z.object({ m: z.string().includes(":") }), { m: "a" }, 'm "a" must contain ":"'],
    ["invalid_format (regex)", z.object({ r: z.string().regex(/^a+$/) }), { r: "b" }, 'r "b" must match the pattern /^a+$/'],
    ["invalid_format (email)", z.object({ e: z.email() }), { e: "nope" }, 'e "nope" must be a valid email'],
    ["not_multiple_of", z.object({ n: z.number().multipleOf(5) }), { n: 7 }, "n 7 must be a multiple of 5"],
    ["unrecognized_keys (one)", z.object({}).strict(), { password: "x" }, 'unknown prop "password"'],
    ["unrecognized_keys (two)", z.object({ o: z.object({}).strict() }), { o: { a: 1, b: 2 } }, 'o: unknown props "a", "b"'],
    ["invalid_union", z.object({ u: z.union([z.string(), z.number()]) }), { u: true }, "u true is none of the accepted forms: a string, or a number"],
    ["invalid_union (discriminated)", z.object({ d: z.discriminatedUnion("kind", [z.object({ kind: z.literal("x") }), z.object({ kind: z.literal("y") })]) }), { d: { kind: "z" } }, 'd.kind "z" must be one of "x", "y"'],
    ["invalid_key", z.object({ staticDirs: z.record(z.string().startsWith("/"), z.string()) }), { staticDirs: { static: "static" } }, 'staticDirs key "static" must start with "/"'],
    ["invalid_element", z.object({ s: z.set(z.number()) }), { s: new Set(["q"]) }, "s must be a number (got a Set)"],
    ["invalid_value (enum)", z.object({ e: z.enum(["a", "b"]) }), { e: "c" }, 'e "c" must be one of "a", "b"'],
    ["invalid_value (literal)", z.object({ l: z.literal("only") }), { l: "other" }, 'l "other" must be "only"'],
    ["custom (no message)", z.object({ c: z.string().refine(() => false) }), { c: "x" }, 'c "x" is not accepted here'],
    ["custom (our message)", z.object({ c: z.string().refine(() => false, { message: "must be nice" }) }), { c: "x" }, 'c "x" must be nice'],
  ])("%s", (_code, schema, input, line) => {
    expect(problems(schema, input)).toEqual([line]);
  });

  test("no zod wording is left in any line", () => {
    const schema = z.object({ a: z.number(), b: z.string().min(2), c: z.record(z.string().regex(/^x/), z.string()), d: z.enum(["p"]) }).strict();
    for (const line of problems(schema, { a: "1", b: "", c: { y: "" }, d: "q", e: 1 })) expect(line).not.toMatch(/Invalid|Too (small|big)|expected|received|Unrecognized/);
  });

  test("only the first problem of each field is reported", () => {
    const mount = z.string().startsWith("/", { message: 'must start with "/"' }).regex(/^\/[a-z]*$/, { message: "may only contain a-z" });
    expect(problems(z.object({ mount, other: mount }), { mount: "app", other: "x;" })).toEqual(['mount "app" must start with "/"', 'other "x;" must start with "/"']);
  });
});

describe("plural", () => {
  test.each<[number, string, string]>([
    [0, "entry point", "0 entry points"],
    [1, "package", "1 package"],
    [2, "package", "2 packages"],
  ])("%d %s", (n, word, text) => expect(plural(n, word)).toBe(text));
  test("an irregular plural", () => expect(plural(3, "entry", "entries")).toBe("3 entries"));
});
