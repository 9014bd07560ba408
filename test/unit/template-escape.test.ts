import fc from "fast-check";
import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, Tokenization } from "cdktf";
import { escapeTemplate, escapeTemplates, nonNfcStrings, TemplateExpressionError, unescapeTemplate, unescapeTemplates } from "../../lib/template-escape";
import { trickyText } from "../support/tricky-text";

/** User text in synthesized JSON stays text: for the engine (template escapes) and for cdktf (token markers). */

test("template sequences get Terraform's escapes; plain text is unchanged", () => {
  expect(escapeTemplate('${file("../../db.yml")}')).toBe('$${file("../../db.yml")}');
  expect(escapeTemplate("%{GROUP}")).toBe("%%{GROUP}");
  expect(escapeTemplate("$${a} %%{b}")).toBe("$$${a} %%%{b}");
  expect(escapeTemplate("$ % { } \\ \" 1e5 ü")).toBe("$ % { } \\ \" 1e5 ü");
});

test("cdktf token markers and number tokens are spelled with a constant the engine folds back", () => {
  expect(escapeTemplate("${TfToken[TOKEN.1]}")).toBe('$${${"T"}fToken[TOKEN.1]}');
  expect(escapeTemplate("#{TfToken[TOKEN.1]}")).toBe('#{${"T"}fToken[TOKEN.1]}');
  expect(escapeTemplate("report-8.15e298.txt")).toBe('report-8.15${"e"}298.txt');
});

test("unescape is the inverse of escape", () => {
  fc.assert(fc.property(trickyText(), (text) => unescapeTemplate(escapeTemplate(text)) === text), { numRuns: 2000 });
});

test("keys and values are escaped at every depth; other values are kept", () => {
  const data = { "${a}": ["%{b}", 1, true, null, { "c${d}": "e" }], n: 2 };
  const escaped = escapeTemplates(data);
  expect(escaped).toEqual({ "$${a}": ["%%{b}", 1, true, null, { "c$${d}": "e" }], n: 2 });
  expect(unescapeTemplates(escaped)).toEqual(data);
});

test("cdktf resolves escaped text to itself (no token substituted, no synth failure)", () => {
  const stack = new TerraformStack(Testing.app(), "s");
  const resolve = (value: unknown) => Tokenization.resolve(value, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) });
  fc.assert(
    fc.property(fc.dictionary(trickyText(), trickyText(), { maxKeys: 4 }), (data) => {
      const escaped = escapeTemplates(data);
      // A stack is resolved twice (each element, then the whole); both must leave it alone.
      expect(resolve(resolve(escaped))).toEqual(escaped);
    }),
    { numRuns: 500 },
  );
});

test("a real expression is not escaped text: reading it back says so", () => {
  expect(() => unescapeTemplate("${self.id}")).toThrow(TemplateExpressionError);
  expect(() => unescapeTemplate("a %{if x}")).toThrow(/template sequence at 2/);
});

test("text the engine would normalize (not NFC) is reported, keys included", () => {
  expect(nonNfcStrings({ "Cafe\u0301.txt": "x", env: ["Caf\u00e9", "n\u0303"] })).toEqual([
    '"Cafe\\u0301.txt" is not in Unicode NFC (Terraform and OpenTofu store it as "Caf\\u00e9.txt"); rename it or write it composed',
    '"n\\u0303" is not in Unicode NFC (Terraform and OpenTofu store it as "\\u00f1"); rename it or write it composed',
  ]);
  expect(nonNfcStrings({ a: "Caf\u00e9 ${x}", n: 1 })).toEqual([]);
});
