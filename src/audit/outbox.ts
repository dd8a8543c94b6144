/** A write that failed; `permanent` ones (a collector's 400) are not retried: the batch is dropped. */
export class SinkWriteError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** Moves batches of lines to one destination. */
export interface Transport {
  /** Writes the lines (each ends with `\n`); rejects (a {@link SinkWriteError} or any error) on failure. */
  send(lines: readonly string[]): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;
  /** Synchronous last-chance write at process exit (files only). */
  flushAtExit?(lines: readonly string[]): void;
}

/** Counters of one sink, read by the metrics and `/.gatehouse/metrics`. */
export interface SinkStats {
  readonly name: string;
  readonly onFailure: 'drop' | 'block';
  /** Events written. */
  written: number;
  /** Events lost for good: buffer full, rejected by the destination, or still buffered at close. */
  dropped: number;
  /** Events in write attempts that failed (each retry counts again). */
  failed: number;
  /** Events waiting. */
  readonly buffered: number;
  /** False from a failed write until a write succeeds again. */
  readonly up: boolean;
}

/** Options of an {@link Outbox}. */
export interface OutboxOptions {
  readonly name: string;
  readonly onFailure: 'drop' | 'block';
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Most events per send. */
  readonly batchEvents?: number;
  /** Wait this long to fill a batch (ms); 0: send as soon as the writer is free. */
  readonly batchDelayMs?: number;
  /** Told about failures (once per error code until the sink is up again). */
  readonly onError: (sink: string, e: Error) => void;
  /** Told when the sink goes down or comes back (the audit log's fail-closed state). */
  readonly onState: () => void;
}

/**
 * The bounded buffer and delivery loop in front of one {@link Transport}: `write` only queues
 * (never blocks, never throws); one send at a time, batched; on failure the same batch is
 * retried with exponential backoff and jitter while new events queue up to `maxEvents` /
 * `maxBytes`, beyond which they are dropped and counted.
 */
export class Outbox implements SinkStats {
  readonly name: string;
  readonly onFailure: 'drop' | 'block';
  written = 0;
  dropped = 0;
  failed = 0;
  readonly #t: Transport;
  readonly #o: OutboxOptions;
  #queue: string[] = [];
  #bytes = 0;
  #sending = false;
  /** Cancels the scheduled send (an immediate or a retry timer); undefined when none is scheduled. */
  #cancel: (() => void) | undefined;
  #up = true;
  #wait: number;
  #closing = false;
  #reported = new Set<string>();
  #idle: (() => void) | undefined;
  readonly #onExit = () => this.#exitFlush();

  constructor(transport: Transport, opts: OutboxOptions) {
    this.#t = transport;
    this.#o = opts;
    this.name = opts.name;
    this.onFailure = opts.onFailure;
    this.#wait = opts.retryInitialMs;
    if (transport.flushAtExit) process.once('exit', this.#onExit);
  }

  get buffered(): number {
    return this.#queue.length;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Queues one line (ending with `\n`); drops and counts it when the buffer is full. */
  write(line: string): void {
    if (this.#queue.length >= this.#o.maxEvents || this.#bytes + line.length > this.#o.maxBytes) {
      this.dropped++;
      return;
    }
    this.#queue.push(line);
    this.#bytes += line.length;
    if (!this.#sending && this.#cancel === undefined) this.#schedule(this.#delay());
  }

  #delay(): number {
    const d = this.#o.batchDelayMs ?? 0;
    return d > 0 && this.#queue.length < (this.#o.batchEvents ?? Infinity) && !this.#closing ? d : 0;
  }

  #schedule(ms: number): void {
    if (ms === 0) {
      const i = setImmediate(() => {
        this.#cancel = undefined;
        void this.#pump();
      });
      this.#cancel = () => clearImmediate(i);
      return;
    }
    const t = setTimeout(() => {
      this.#cancel = undefined;
      void this.#pump();
    }, ms);
    // Retries never keep a stopping process alive; close() drains with its own deadline.
    t.unref();
    this.#cancel = () => clearTimeout(t);
  }

  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    while (this.#queue.length > 0) {
      const n = Math.min(this.#queue.length, this.#o.batchEvents ?? 1000);
      const batch = this.#queue.slice(0, n);
      try {
        await this.#t.send(batch);
        // Closed while sending (deadline passed): what was left is already counted.
        if (this.#queue.length < n) break;
        this.#take(n);
        this.written += n;
        this.#wait = this.#o.retryInitialMs;
        this.#setUp(true);
      } catch (e) {
        const err = e as Error & { code?: string; permanent?: boolean };
        this.failed += n;
        if (err.permanent === true) {
          this.#take(n);
          this.dropped += n;
        }
        this.#report(err);
        this.#setUp(false);
        if (this.#closing) break;
        const wait = this.#wait;
        this.#wait = Math.min(this.#wait * 2, this.#o.retryMaxMs);
        this.#sending = false;
        this.#schedule(Math.round(wait * (0.75 + Math.random() * 0.5)));
        return;
      }
    }
    this.#sending = false;
    this.#idle?.();
  }

  #take(n: number): void {
    for (let i = 0; i < n; i++) this.#bytes -= (this.#queue[i] as string).length;
    this.#queue = this.#queue.slice(n);
  }

  #setUp(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    if (up) this.#reported.clear();
    this.#o.onState();
  }

  #report(e: Error & { code?: string }): void {
    const key = e.code ?? e.message;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#o.onError(this.name, e);
  }

  #exitFlush(): void {
    if (this.#queue.length === 0) return;
    try {
      this.#t.flushAtExit?.(this.#queue);
      this.written += this.#queue.length;
      this.#queue = [];
    } catch {
      // Nothing more can be done at exit.
    }
  }

  /**
   * Sends what is buffered (one attempt per batch, within `deadlineMs`), then closes the
   * transport; events still buffered are counted as dropped.
   */
  async close(deadlineMs = 5000): Promise<void> {
    this.#closing = true;
    process.removeListener('exit', this.#onExit);
    this.#cancel?.();
    this.#cancel = undefined;
    if (this.#queue.length > 0 || this.#sending) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#idle = resolve;
          if (!this.#sending) void this.#pump().then(resolve);
        }),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timeout);
    }
    this.dropped += this.#queue.length;
    this.#queue = [];
    await this.#t.close();
  }
}
