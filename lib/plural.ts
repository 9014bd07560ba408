/** "1 package", "2 packages", "0 packages": a count with its noun, for messages (English regular plurals). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}
