/**
 * The engine's state-lock conflict, read from its output (pure): Terraform and OpenTofu both
 * print "Error acquiring the state lock" and a "Lock Info:" block (ID, Who, Created, ...)
 * when another run holds the lock, and then exit without running anything.
 */
export interface StateLockConflict {
  readonly id?: string;
  readonly who?: string;
  readonly operation?: string;
  readonly created?: string;
}

// Colour codes, when the engine wrote them, would split the field names.
const ANSI = /\u001b\[[0-9;]*m/g;

export function stateLockConflict(output: string): StateLockConflict | undefined {
  const text = output.replace(ANSI, "");
  if (!text.includes("Error acquiring the state lock")) return undefined;
  const info = text.slice(text.indexOf("Error acquiring the state lock"));
  const field = (name: string) => new RegExp(`^[\\s│|]*${name}:[ \\t]*(\\S.*?)\\s*$`, "m").exec(info)?.[1];
  return { id: field("ID"), who: field("Who"), operation: field("Operation"), created: field("Created") };
}
