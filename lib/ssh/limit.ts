/**
 * At most `max` tasks at a time, the rest wait in order. The broker runs every client's
 * commands over one connection, and sshd refuses channels beyond MaxSessions (10 by
 * default) with an error that would read as a dropped connection; so it queues instead.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task, so `running` never dips below the queue's need.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
