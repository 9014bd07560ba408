import fc from "fast-check";

/**
 * Text that Terraform or cdktf would read as something other than text if written as is:
 * template sequences and their escapes, cdktf token markers and number tokens, quotes,
 * backslashes, unicode, mixed with random graphemes.
 */
export const TRICKY_PIECES = [
  "${", "%{", "$${", "%%{", "$$${", "$", "%", "{", "}", "\\", '"', "'", "\n", "ü", "🎉", "\u2028",
  '${file("../../db.yml")}', "%{GROUP}", '${"T"}', "${self.id}",
  "${TfToken[TOKEN.1]}", "#{TfToken[TOKEN.0]}", "&{TfToken[TOKEN.2]}", "{TfToken[", "-8.15e298", "1e5",
];

/** A string built from {@link TRICKY_PIECES} and random graphemes (no lone surrogates). */
export function trickyText(options: { minLength?: number; maxPieces?: number } = {}): fc.Arbitrary<string> {
  const piece = fc.oneof(fc.constantFrom(...TRICKY_PIECES), fc.string({ unit: "grapheme", maxLength: 3 }));
  return fc.array(piece, { minLength: options.minLength ?? 0, maxLength: options.maxPieces ?? 8 }).map((p) => p.join(""));
}
