/** `1 package`, `2 packages`, `0 entry points`: the count and the word, singular only for exactly one. */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/** `a, b, c`, or the first five and `and N more`: a list of names short enough for one line. */
export function listSome(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}
