/**
 * The first `count` parts of `text` split on `separator`, then the rest unsplit (pure): how
 * the answers of several reads in one remote command are told apart. Fewer separators than
 * `count` give fewer parts; a missing part reads as "" by the caller's default.
 */
export function splitParts(text: string, separator: string, count: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (parts.length < count) {
    const at = rest.indexOf(separator);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  return [...parts, rest];
}
