import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Options of a {@link LineSink}. */
export interface LineSinkOptions {
  /** Bytes buffered before a write; the flush timer writes smaller batches. */
  readonly batchBytes?: number;
  /** Lines held while the destination cannot take them (a full pipe); beyond it lines are dropped and counted. */
  readonly maxBufferedBytes?: number;
  /** Flush interval; 0 disables the timer (tests flush by hand). */
  readonly flushMs?: number;
  /** File mode when the file is created. */
  readonly mode?: number;
  /** Told about a failed write (the batch is dropped and counted). */
  readonly onError?: (e: Error) => void;
}

/**
 * A buffered line writer for the log file or stdout, in the way nginx buffers its access log:
 * lines are appended in memory and written in one synchronous `write(2)` per batch (32 KiB or
 * every 250 ms), from the event loop thread. No thread-pool hop and no per-line syscall; a
 * full pipe (EAGAIN) keeps the lines for the next attempt rather than blocking.
 */
export class LineSink {
  #pending = '';
  #held: Buffer | undefined;
  #dropped = 0;
  readonly #fd: number;
  readonly #ownsFd: boolean;
  readonly #batch: number;
  readonly #max: number;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onError: ((e: Error) => void) | undefined;

  /** `dest`: a file path (created with its directory, opened for appending) or a file descriptor. */
  constructor(dest: string | number, opts: LineSinkOptions = {}) {
    if (typeof dest === 'number') {
      this.#fd = dest;
      this.#ownsFd = false;
    } else {
      mkdirSync(dirname(dest), { recursive: true });
      this.#fd = openSync(dest, 'a', opts.mode ?? 0o644);
      this.#ownsFd = true;
    }
    this.#batch = opts.batchBytes ?? 32 * 1024;
    this.#max = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#onError = opts.onError;
    const every = opts.flushMs ?? 250;
    this.#timer = every > 0 ? setInterval(() => this.flush(), every).unref() : undefined;
  }

  /** Lines lost: the destination failed, or stayed blocked while more than the cap was buffered. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends one or more complete lines. */
  write(line: string): boolean {
    this.#pending += line;
    if (this.#pending.length >= this.#batch) this.flush();
    return true;
  }

  /** Writes what is buffered now. */
  flush(): void {
    if (this.#pending.length > 0) {
      const b = Buffer.from(this.#pending, 'utf8');
      this.#pending = '';
      this.#held = this.#held ? Buffer.concat([this.#held, b]) : b;
    }
    let held = this.#held;
    while (held !== undefined && held.length > 0) {
      let n: number;
      try {
        n = writeSync(this.#fd, held);
      } catch (e) {
        // A log write never throws into the request that logged: other errors drop the batch.
        const again = (e as NodeJS.ErrnoException).code === 'EAGAIN';
        if (!again || held.length > this.#max) {
          this.#dropped += countLines(held);
          held = undefined;
          if (!again) this.#onError?.(e as Error);
        }
        break;
      }
      held = n === held.length ? undefined : held.subarray(n);
    }
    this.#held = held;
  }

  /** pino's name for a synchronous flush. */
  flushSync(): void {
    this.flush();
  }

  /** Flushes and stops the timer; closes the file it opened. */
  end(): void {
    if (this.#timer) clearInterval(this.#timer);
    try {
      this.flush();
    } finally {
      if (this.#ownsFd) closeSync(this.#fd);
    }
  }
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}
