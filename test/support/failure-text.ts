import { errorText } from "../../lib/errors";

/** The error a call fails with, as the user reads it (message, detail, hint); throws if it succeeds. */
export async function failureText(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    return errorText(e);
  }
  throw new Error("succeeded, but should have failed");
}
