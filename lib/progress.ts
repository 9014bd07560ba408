/**
 * Progress lines with elapsed time, e.g. `[demo/app/venv] pip install (3 packages) 3.1s`.
 * Terraform shows them live in `cdktf deploy` output (local-exec forwards each line).
 */
export type Writer = (line: string) => void;

export class Progress {
  constructor(
    private readonly unit: string,
    private readonly write: Writer = (line) => process.stdout.write(line + "\n"),
    private readonly now: () => number = () => performance.now(),
  ) {}

  info(message: string): void {
    this.write(`[${this.unit}] ${message}`);
  }

  /** Run one step; print its name and elapsed time when it ends (or fails). */
  async step<T>(name: string, run: () => Promise<T>, describe?: (result: T) => string): Promise<T> {
    const started = this.now();
    try {
      const result = await run();
      const suffix = describe ? ` ${describe(result)}` : "";
      this.write(`[${this.unit}] ${name}${suffix} ${this.elapsed(started)}`);
      return result;
    } catch (e) {
      this.write(`[${this.unit}] ${name} FAILED after ${this.elapsed(started)}`);
      throw e;
    }
  }

  private elapsed(started: number): string {
    return `${((this.now() - started) / 1000).toFixed(1)}s`;
  }
}
