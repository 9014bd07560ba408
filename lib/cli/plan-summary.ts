import * as fs from "node:fs/promises";
import * as nodePath from "node:path";
import { WebshareError } from "../errors";
import { summarizePlan } from "../summary/model";
import { PlanFormatError } from "../summary/plan";
import { renderPlanSummary } from "../summary/render";

/**
 * `webshare plan-summary PLAN.json`: the webshare units a plan changes, as Markdown for a PR
 * comment (cut to fit one unless `--full`), or JSON. PLAN.json is `tofu show -json PLANFILE` (or terraform's); "-" reads it
 * from standard input.
 */
export interface PlanSummaryOptions {
  readonly json?: boolean;
  /** Longest table or list before "... and N more"; a string as commander passes it. */
  readonly maxItems?: string | number;
  /** No length limit: by default the Markdown is cut to fit a GitHub comment. */
  readonly full?: boolean;
}

export interface PlanSummaryIo {
  readonly cwd: string;
  readonly write: (text: string) => void;
  readonly readStdin?: () => Promise<string>;
}

const HOW = "create it with: tofu plan -out=plan.tfplan && tofu show -json plan.tfplan > plan.json (terraform works the same)";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function maxItemsOf(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new WebshareError(`--max-items ${JSON.stringify(String(value))} must be a whole number of at least 1`);
  return n;
}

export async function planSummaryCommand(file: string, options: PlanSummaryOptions, io: PlanSummaryIo): Promise<void> {
  const maxItems = maxItemsOf(options.maxItems);
  let text: string;
  try {
    text = file === "-" ? await (io.readStdin ?? readStdin)() : await fs.readFile(nodePath.resolve(io.cwd, file), "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new WebshareError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`, HOW);
  }
  if (text.startsWith("PK")) throw new WebshareError(`${file} is a binary plan file, not its JSON`, HOW);
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (e) {
    throw new WebshareError(`${file} is not JSON: ${(e as Error).message}`, HOW);
  }
  let summary;
  try {
    summary = summarizePlan(plan);
  } catch (e) {
    if (e instanceof PlanFormatError) throw new WebshareError(`${file}: ${e.message}`, HOW);
    throw e;
  }
  if (options.json) io.write(`${JSON.stringify(summary, null, 2)}\n`);
  else io.write(renderPlanSummary(summary, { ...(maxItems !== undefined && { maxItems }), ...(options.full && { maxChars: Infinity }) }));
}
