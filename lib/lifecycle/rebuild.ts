import { randomBytes } from "node:crypto";
import { contentId } from "../hash";

/**
 * A new content-style id for rebuilding a venv or release whose inputs did not change but
 * whose directory did (drift): the inputs' own directory is the drifted one, still live, so
 * the rebuild goes beside it. 16 hex digits like every id, so pruning and history treat it
 * the same.
 */
export function rebuildId(inputsId: string): string {
  return contentId({ rebuildOf: inputsId, nonce: randomBytes(8).toString("hex") });
}
