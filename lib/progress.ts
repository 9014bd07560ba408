/**
 * Progress lines with elapsed time, e.g. `[demo/app/venv] pip install (3 packages) 3.1s`.
 * Terraform shows them live in `cdktf deploy` output (local-exec forwards each line).
 *
 * A long step (pip install, an upload, a wheel build, the wait for the host lock, the
 * verify loop) also says when it starts and, every `heartbeatSeconds` while it runs, that it
 * is still running, with the elapsed time and the last line of its output where there is
 * one: a CI log that shows nothing for minutes looks hung, and is often killed as hung.
 */
export type Writer = (line: string) => void;

/** Seconds between "still running" lines unless WEBSHARE_HEARTBEAT_SECONDS says otherwise. */
const DEFAULT_HEARTBEAT_SECONDS = 20;

export interface ProgressOptions {
  /** Seconds between "still running" lines of a long step. @default 20 */
  readonly heartbeatSeconds?: number;
}

export interface LongOptions {
  /** This step's own interval (seconds); the Progress's otherwise. */
  readonly heartbeatSeconds?: number;
  /**
   * The last line the work printed, shown as `last: "..."`. May be asked of the host (one
   * command per heartbeat); a failure or undefined leaves it out. A heartbeat comes only
   * after the previous one's question was answered.
   */
  readonly lastLine?: () => string | undefined | Promise<string | undefined>;
  /** Free text instead of a last line, e.g. who holds the lock, why a check has not passed yet. */
  readonly status?: () => string | undefined;
  /** No "started" line (a loop that usually ends at once); heartbeats still come. */
  readonly quietStart?: boolean;
}

/** A running heartbeat; stop() ends it (idempotent), and no line is written after that. */
export interface Heartbeat {
  stop(): void;
}

/** WEBSHARE_HEARTBEAT_SECONDS when it is a positive number, else the default. */
export function heartbeatSecondsFrom(env: NodeJS.ProcessEnv): number {
  const value = Number(env.WEBSHARE_HEARTBEAT_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_HEARTBEAT_SECONDS;
}

const MAX_LINE = 160;
// CSI / OSC escape sequences and other control characters: a log line stays plain text.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/** The last non-blank line of some output, plain (no escapes), at most 160 characters (pure). */
export function lastLineOf(text: string): string | undefined {
  const lines = text.split(/\r\n|\n|\r/).map((l) => l.replace(ESCAPES, "").trim());
  const last = lines.filter((l) => l !== "").pop();
  if (last === undefined) return undefined;
  return last.length > MAX_LINE ? `${last.slice(0, MAX_LINE - 3)}...` : last;
}

/** Keeps the tail of a stream of output chunks, to answer "what was its last line". */
export class OutputTail {
  private text = "";

  push(chunk: string | Buffer): void {
    this.text = (this.text + chunk.toString()).slice(-4096);
  }

  last(): string | undefined {
    return lastLineOf(this.text);
  }
}

export class Progress {
  private readonly heartbeatSeconds: number;

  constructor(
    private readonly unit: string,
    private readonly write: Writer = (line) => process.stdout.write(line + "\n"),
    private readonly now: () => number = () => performance.now(),
    options: ProgressOptions = {},
  ) {
    this.heartbeatSeconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  }

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

  /**
   * The end line of a step that ran inside another step's exchange (lifecycle/staged-script.ts),
   * as `step` prints it, with the seconds the host measured for it (none when it could not tell).
   */
  ended(name: string, detail: string | undefined, seconds: number | undefined, failed = false): void {
    const time = seconds !== undefined && Number.isFinite(seconds) ? `${Math.max(0, seconds).toFixed(1)}s` : undefined;
    if (failed) this.write(`[${this.unit}] ${name} FAILED${time === undefined ? "" : ` after ${time}`}`);
    else this.write(`[${this.unit}] ${[name, detail, time].filter((p) => p !== undefined && p !== "").join(" ")}`);
  }

  /**
   * A step that may take long: `NAME started`, then `NAME still running (45s; last: "...")`
   * every heartbeat while it runs, then the end line of `step`.
   */
  async long<T>(name: string, run: () => Promise<T>, describe?: (result: T) => string, options: LongOptions = {}): Promise<T> {
    if (options.quietStart !== true) this.info(`${name} started`);
    const beat = this.heartbeat(name, options);
    try {
      return await this.step(name, run, describe);
    } finally {
      beat.stop();
    }
  }

  /** `NAME still running (...)` every heartbeat until stopped, for work that is not one call (a wait loop). */
  heartbeat(name: string, options: Omit<LongOptions, "quietStart"> = {}): Heartbeat {
    const started = this.now();
    let stopped = false;
    let asking = false;
    const tick = async (): Promise<void> => {
      if (stopped || asking) return;
      asking = true;
      let detail: string | undefined;
      try {
        if (options.lastLine !== undefined) {
          const line = await options.lastLine();
          if (line !== undefined && line !== "") detail = `last: ${JSON.stringify(line)}`;
        } else detail = options.status?.();
      } catch {
        detail = undefined; // the work's own error is what counts; a heartbeat never fails it
      } finally {
        asking = false;
      }
      if (stopped) return;
      const seconds = Math.round((this.now() - started) / 1000);
      this.write(`[${this.unit}] ${name} still running (${seconds}s${detail ? `; ${detail}` : ""})`);
    };
    const timer = setInterval(() => void tick(), (options.heartbeatSeconds ?? this.heartbeatSeconds) * 1000);
    timer.unref?.();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  }

  private elapsed(started: number): string {
    return `${((this.now() - started) / 1000).toFixed(1)}s`;
  }
}
