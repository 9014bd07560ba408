/**
 * A stand-in for `node "$WEBSHARE_CLI" provision create|destroy` in synth-tier tests that run
 * the real engine: it receives the unit exactly as `webshare provision` does (the same
 * `unitFromEnvironment`: spec read from the stack and checked against the planned digest),
 * then saves it as JSON in $WEBSHARE_DUMP/<action>-<instance id>.json instead of deploying.
 * A refusal is printed like the CLI prints it, with exit status 1.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { specFromEnvironment } from "../../lib/transport";
import { errorText } from "../../lib/errors";
import { commandLine } from "../../lib/shell";

/** A directory holding a `node` to put first on PATH: it runs this stub with the real node. */
export function provisionStubDir(parent: string): string {
  const dir = path.join(parent, "stub-bin");
  fs.mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh\n# argv: $WEBSHARE_CLI provision <action>\nexec ${commandLine([process.execPath, __filename])} "$3"\n`;
  fs.writeFileSync(path.join(dir, "node"), script, { mode: 0o755 });
  return dir;
}

if (require.main === module) {
  const action = process.argv[2] === "destroy" ? "destroy" : "create";
  try {
    const spec = specFromEnvironment(action, process.env);
    // The host inventory's runs are saved apart: tests look at the units' dumps.
    const prefix = spec.kind === "inventory" ? `inventory-${action}` : action;
    fs.writeFileSync(path.join(process.env.WEBSHARE_DUMP!, `${prefix}-${process.env.WEBSHARE_INSTANCE}.json`), JSON.stringify(spec));
  } catch (e) {
    process.stderr.write(`${errorText(e)}\n`);
    process.exit(1);
  }
}
