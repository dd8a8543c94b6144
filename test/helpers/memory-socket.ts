import { Duplex } from 'node:stream';

/**
 * An in-memory stand-in for a TCP socket, to drive Node's own HTTP parser (llhttp inside
 * `http.Server` and `http.request`) or undici's without the loopback: what the test pushes with
 * {@link MemorySocket.deliver} arrives as reads, what the parser's owner writes is discarded.
 * Node's `http.Server` accepts any Duplex through `emit('connection')` and `http.request` through
 * `createConnection`; every pushed chunk reaches the parser as its own `execute` call when the
 * reader is a `'data'` listener.
 */
export class MemorySocket extends Duplex {
  /** Bytes the owner wrote (a request, a response); kept only when asked. */
  readonly written: Buffer[] = [];

  constructor(private readonly keepWrites = false) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.keepWrites) this.written.push(chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
  }

  /** Pushes `chunks` as separate reads, then EOF when `end` is set. */
  deliver(chunks: readonly Buffer[], end: boolean): void {
    for (const c of chunks) if (!this.destroyed) this.push(c);
    if (end && !this.destroyed) this.push(null);
  }

  // What net.Socket offers and HTTP clients/servers call; no effect in memory.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
