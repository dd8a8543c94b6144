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
  readonly #buf: Buffer;
  #used = 0;
  #held: Buffer | undefined;
  #dropped = 0;
  readonly #fd: number;
  readonly #ownsFd: boolean;
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
    this.#buf = Buffer.allocUnsafe(opts.batchBytes ?? 32 * 1024);
    this.#max = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#onError = opts.onError;
    const every = opts.flushMs ?? 250;
    this.#timer = every > 0 ? setInterval(() => this.flush(), every).unref() : undefined;
  }

  /** Lines lost: the destination failed, or stayed blocked while more than the cap was buffered. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Appends one or more complete lines, encoded straight into the batch buffer (one pass over
   * the string, no intermediate batch string to flatten and measure).
   */
  write(line: string): boolean {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.#used + line.length * 3 > this.#buf.length) {
      this.flush();
      if (line.length * 3 > this.#buf.length) {
        this.#hold(Buffer.from(line, 'utf8'));
        this.flush();
        return true;
      }
    }
    this.#used += this.#buf.write(line, this.#used, 'utf8');
    return true;
  }

  /** Writes what is buffered now. */
  flush(): void {
    if (this.#used > 0) {
      const batch = this.#buf.subarray(0, this.#used);
      this.#used = 0;
      if (this.#held === undefined) {
        const rest = this.#writeOut(batch);
        // Copied: the batch buffer is reused for the next lines.
        if (rest !== undefined) this.#held = Buffer.from(rest);
        return;
      }
      this.#hold(batch);
    }
    if (this.#held !== undefined) this.#held = this.#writeOut(this.#held);
  }

  /** Appends `b` to the bytes waiting for the destination (copied when some are already waiting). */
  #hold(b: Buffer): void {
    this.#held = this.#held ? Buffer.concat([this.#held, b]) : b;
  }

  /** Writes `b` out; returns what a full pipe (EAGAIN) left unwritten, if anything. */
  #writeOut(b: Buffer): Buffer | undefined {
    let rest: Buffer | undefined = b;
    while (rest !== undefined && rest.length > 0) {
      let n: number;
      try {
        n = writeSync(this.#fd, rest);
      } catch (e) {
        // A log write never throws into the request that logged: other errors drop the batch.
        const again = (e as NodeJS.ErrnoException).code === 'EAGAIN';
        if (!again || rest.length > this.#max) {
          this.#dropped += countLines(rest);
          if (!again) this.#onError?.(e as Error);
          return undefined;
        }
        return rest;
      }
      rest = n === rest.length ? undefined : rest.subarray(n);
    }
    return undefined;
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
