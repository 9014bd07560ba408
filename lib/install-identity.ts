import { sha256Hex } from "./hash";
import { parseRequirements, renderRequirements, RequirementEntry } from "./requirements";

/**
 * What a requirements or lock file MEANS to pip, as one canonical text, and its hash: the
 * venv's identity. Names by PEP 503, extras, specifiers and hashes sorted, requirements
 * sorted, comments, blank lines, line continuations and whitespace dropped; versions, URLs
 * and markers kept as written, and option lines kept in their order (it can matter to pip).
 * So a comment edit or a re-ordering keeps the venv (no rebuild, no replace in the plan),
 * and any change pip would see gives a new one. Pure.
 */

/** One entry with everything pip does not care about the order or spelling of made canonical. */
function canonicalEntry(e: RequirementEntry): string {
  const canonical: RequirementEntry =
    e.kind === "option" || e.kind === "editable"
      ? e
      : {
          ...e,
          originalName: e.name,
          extras: [...e.extras].sort(),
          hashes: [...e.hashes].sort(),
          ...(e.marker !== undefined && { marker: e.marker.replace(/\s+/g, " ") }),
          ...(e.kind === "specifier" && { specifiers: [...e.specifiers].sort((a, b) => (`${a.operator}${a.version}` < `${b.operator}${b.version}` ? -1 : 1)) }),
        };
  return renderRequirements([canonical]).trimEnd();
}

/** The canonical text: option lines in file order, then the requirements sorted, then any unparsable line as written. */
export function canonicalRequirements(text: string): string {
  const parsed = parseRequirements(text);
  const options = parsed.entries.filter((e) => e.kind === "option").map(canonicalEntry);
  const requirements = parsed.entries.filter((e) => e.kind !== "option").map(canonicalEntry).sort();
  const unparsed = parsed.errors.map((e) => `! ${e.raw}`);
  return [...options, ...requirements, ...unparsed].map((entry) => `${entry}\n`).join("");
}

/** sha256 of the canonical text: the spec's `installSha256`, part of the venv id. */
export function installIdentity(text: string): string {
  return sha256Hex(canonicalRequirements(text));
}
