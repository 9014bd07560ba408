/** `1 package`, `2 packages`, `0 entry points`: the count and the word, singular only for exactly one. */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
