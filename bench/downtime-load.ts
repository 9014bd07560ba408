import { httpGet } from "../test/support/local-host";

/**
 * Constant HTTP load for the downtime benchmark: `clients` loops, each sending one GET every
 * 1/`ratePerClient` s on a fresh loopback connection (no keep-alive, so a restarting daemon
 * cannot hide behind a pooled socket). A request fails when it ends in anything but a 200
 * whose body the app wrote, or in a connection error or a 15 s timeout.
 */
export interface LoadResult {
  readonly total: number;
  readonly failed: number;
  /** `HTTP 500`, `ECONNRESET`, a timeout... -> count. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Seconds after the load started, of the first and last failure. */
  readonly firstFailureAt?: number;
  readonly lastFailureAt?: number;
}

export class Load {
  private running = false;
  private loops: Promise<void>[] = [];
  private total = 0;
  private readonly reasons: Record<string, number> = {};
  private readonly failures: number[] = [];
  private startedAt = 0;

  constructor(
    private readonly url: string,
    private readonly ok: (status: number, body: string) => boolean,
    private readonly clients = 4,
    private readonly ratePerClient = 25,
  ) {}

  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.loops = Array.from({ length: this.clients }, (_, i) => this.loop(i));
  }

  /** Seconds since the load started (to place events on its timeline). */
  elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  private async loop(client: number): Promise<void> {
    const period = 1000 / this.ratePerClient;
    // Spread the clients over one period so the load is even, not in bursts of 4.
    let next = performance.now() + (period * client) / this.clients;
    while (this.running) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!this.running) break;
      next += period;
      this.total++;
      let reason: string | undefined;
      try {
        const answer = await httpGet(this.url);
        if (!this.ok(answer.status, answer.body)) reason = `HTTP ${answer.status}`;
      } catch (e) {
        reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      if (reason !== undefined) {
        this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
        this.failures.push(this.elapsed());
      }
      // A slow answer must not turn into a burst of catch-up requests.
      if (next < performance.now()) next = performance.now();
    }
  }

  async stop(): Promise<LoadResult> {
    this.running = false;
    await Promise.all(this.loops);
    return {
      total: this.total,
      failed: this.failures.length,
      reasons: { ...this.reasons },
      firstFailureAt: this.failures.length > 0 ? Math.min(...this.failures) : undefined,
      lastFailureAt: this.failures.length > 0 ? Math.max(...this.failures) : undefined,
    };
  }
}
