/**
 * Renders the API reference (docs/api.md) from the doc model api-extractor writes from the
 * compiled declarations and their TSDoc. Pure: doc model in, Markdown out, plus the list of
 * public props that lack a description or a `@default`.
 */
interface ApiItem {
  kind: string;
  name: string;
  docComment?: string;
  isOptional?: boolean;
  isStatic?: boolean;
  excerptTokens?: { text: string }[];
  propertyTypeTokenRange?: { startIndex: number; endIndex: number };
  members?: ApiItem[];
}

interface ParsedDoc {
  summary: string;
  tags: Record<string, string>;
}

export function parseDocComment(comment: string | undefined): ParsedDoc {
  const body = (comment ?? "")
    .trim()
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
  const firstTag = /(^|\s)@\w+/.exec(body);
  const summary = firstTag ? body.slice(0, firstTag.index) : body;
  const tags: Record<string, string> = {};
  if (firstTag) {
    for (const match of body.slice(firstTag.index).matchAll(/@(\w+)\s*([^@]*)/g)) tags[match[1]] = match[2].trim().replace(/\s+/g, " ");
  }
  return { summary: summary.replace(/\s+/g, " ").trim(), tags };
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const excerpt = (item: ApiItem) => (item.excerptTokens ?? []).map((t) => t.text).join("").replace(/\s+/g, " ").trim();

function typeOf(member: ApiItem): string {
  const range = member.propertyTypeTokenRange;
  if (!range || !member.excerptTokens) return "";
  return member.excerptTokens.slice(range.startIndex, range.endIndex).map((t) => t.text).join("").replace(/\s+/g, " ").trim();
}

function defaultOf(member: ApiItem, doc: ParsedDoc): string {
  if (!member.isOptional) return "required";
  const value = doc.tags.default;
  return value === undefined ? "" : value.replace(/^- /, "");
}

/** Public props without a description, or optional ones without a `@default`. */
export function undocumentedProps(model: ApiItem): string[] {
  const problems: string[] = [];
  for (const item of entryItems(model).filter((i) => i.kind === "Interface")) {
    for (const member of item.members ?? []) {
      const doc = parseDocComment(member.docComment);
      if (doc.summary === "") problems.push(`${item.name}.${member.name} has no description`);
      if (member.isOptional && doc.tags.default === undefined) problems.push(`${item.name}.${member.name} has no @default`);
    }
  }
  return problems;
}

function entryItems(model: ApiItem): ApiItem[] {
  return (model.members ?? []).flatMap((entry) => entry.members ?? []).sort((a, b) => a.name.localeCompare(b.name));
}

export function renderApiReference(model: ApiItem): string {
  const items = entryItems(model);
  const out: string[] = [
    "# API reference",
    "",
    "Generated from the TSDoc comments by `npm run docs:api` (api-extractor's doc model); do not edit by hand.",
    "Every prop lists its default; `required` means it has none.",
    "",
  ];
  for (const kind of ["Class", "Interface", "Variable", "TypeAlias"]) {
    for (const item of items.filter((i) => i.kind === kind)) {
      const doc = parseDocComment(item.docComment);
      out.push(`## ${item.name} (${kind === "TypeAlias" ? "type" : kind.toLowerCase()})`, "");
      if (doc.summary) out.push(doc.summary, "");
      if (kind === "Variable" || kind === "TypeAlias") out.push("```ts", excerpt(item), "```", "");
      if (kind === "Interface" && (item.members ?? []).length > 0) {
        out.push("| prop | type | default | description |", "|---|---|---|---|");
        for (const member of item.members ?? []) {
          const memberDoc = parseDocComment(member.docComment);
          out.push(`| \`${member.name}\` | \`${cell(typeOf(member))}\` | ${cell(defaultOf(member, memberDoc))} | ${cell(memberDoc.summary)} |`);
        }
        out.push("");
      }
      if (kind === "Class") {
        const members = (item.members ?? []).filter((m) => !parseDocComment(m.docComment).tags.internal && m.kind !== "Property");
        for (const member of members) {
          const memberDoc = parseDocComment(member.docComment);
          out.push(`- \`${cell(excerpt(member))}\`${memberDoc.summary ? `: ${memberDoc.summary}` : ""}`);
        }
        if (members.length > 0) out.push("");
      }
    }
  }
  return out.join("\n");
}
