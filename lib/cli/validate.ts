import * as fs from "node:fs";
import * as path from "node:path";
import { descriptorJsonSchema, DESCRIPTOR_FILE, readDescriptor } from "../descriptor";
import { WebshareError } from "../errors";

/** `webshare validate DIR`: check an app directory's webshare.json and the files it names. */
export async function validateCommand(dir: string, opts: { json?: boolean }, io: { write: (text: string) => void }): Promise<void> {
  const file = path.join(dir, DESCRIPTOR_FILE);
  if (!fs.existsSync(file)) {
    if (opts.json) io.write(JSON.stringify({ valid: false, problems: [`${file} does not exist`] }, null, 2) + "\n");
    throw new WebshareError(
      `${dir} has no ${DESCRIPTOR_FILE}, so there is nothing to validate`,
      `create ${file}, e.g. {"version": 1, "entry": "app:app", "requirements": "requirements.txt"}, then validate again; webshare schema prints every field it can have (JSON Schema, for an editor)`,
    );
  }
  const result = readDescriptor(dir);
  if (opts.json) {
    io.write(JSON.stringify(result.ok ? { valid: true, descriptor: result.descriptor } : { valid: false, problems: result.problems }, null, 2) + "\n");
    if (!result.ok) throw new WebshareError(`${dir}/${DESCRIPTOR_FILE} is not valid`);
    return;
  }
  if (!result.ok) {
    throw new WebshareError(`${dir}/${DESCRIPTOR_FILE} is not valid:\n${result.problems.map((p) => `  - ${p}`).join("\n")}`, "fix the fields named above; `webshare schema` prints the JSON Schema");
  }
  const d = result.descriptor;
  io.write(`${dir}/${DESCRIPTOR_FILE} is valid (version ${d.version}): entry ${d.entry}${d.lock ? `, lock ${d.lock}` : ""}${d.requirements ? `, requirements ${d.requirements}` : ""}${d.python ? `, Python ${d.python}` : ""}\n`);
}

/** `webshare schema`: the JSON Schema of webshare.json, generated from the zod schema. */
export async function schemaCommand(io: { write: (text: string) => void }): Promise<void> {
  io.write(JSON.stringify(descriptorJsonSchema(), null, 2) + "\n");
}
