/**
 * Markdown building blocks for PR comments that also read well as raw text: GitHub-flavoured
 * tables with escaped cells, code spans that survive backticks, capped lists. Pure.
 */

/** The arrow between an old and a new value. */
export const ARROW = "→";

/** One line of text safe inside a table cell: no line breaks, `|` escaped (GFM splits on it, even in code spans). */
export function cell(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ").replace(/\\/g, "\\\\").replace(/\|/g, "\\|");
}

/**
 * Inline code. Uses a backtick fence longer than any run inside the text (CommonMark), so a
 * file name with backticks still renders as written. Empty text renders as `""`.
 */
export function code(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, " ");
  if (flat === "") return '`""`';
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Code span for a table cell: inside a table, `|` must be escaped even in code. */
export function codeCell(text: string): string {
  return code(text).replace(/\|/g, "\\|");
}

/** A GFM table; cells must already be escaped (use `cell`/`codeCell`). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)];
}

/** At most `max` items, then one "... and N more" item, so a comment stays within GitHub's size limit. */
export function capped<T>(items: readonly T[], max: number, render: (item: T) => string, more: (n: number) => string): string[] {
  const shown = items.slice(0, Math.max(0, max)).map(render);
  return items.length > shown.length ? [...shown, more(items.length - shown.length)] : shown;
}
