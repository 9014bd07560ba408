/**
 * The ONE place where remote shell command text is made. Every value goes through
 * `quote`, so a path or name with spaces, quotes, `$(...)`, backticks or newlines arrives
 * on the host byte for byte and is never interpreted by the remote shell.
 */

/** A command as an argument vector: argv[0] is the program. */
export type Argv = readonly string[];

/** Quote one value for a POSIX shell (single quotes; a quote inside becomes '\''). */
export function quote(value: string): string {
  if (value.includes("\0")) {
    throw new Error(`cannot pass a value containing a NUL byte to a remote command: ${JSON.stringify(value)}`);
  }
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return "'" + value.replace(/'/g, "'\\''") + "'";
}

/** Render one argv as shell text. */
export function commandLine(argv: Argv): string {
  if (argv.length === 0) throw new Error("empty command");
  return argv.map(quote).join(" ");
}

/** Commands run one after another; the first failure stops the rest (`&&`). */
export function allOf(commands: readonly Argv[]): string {
  return commands.map(commandLine).join(" && ");
}
