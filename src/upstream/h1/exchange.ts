import type { H1Request } from './request-head.js';
import type { H1Exchange, H1Handler } from './types.js';

/** What an exchange needs from the connection carrying it. */
export interface ExchangeConnection {
  destroy(): void;
  /** The handler took back its backpressure: read again (and restart the body timeout). */
  resumeReading(): void;
}

/** What an exchange needs from its pool while it waits there for a connection. */
export interface ExchangeQueue {
  dequeue(ex: Exchange): void;
}

/** One request through an {@link H1Pool}: waiting in its queue, then on one connection. */
export class Exchange implements H1Exchange {
  conn: ExchangeConnection | undefined;
  done = false;
  retried = false;
  /** When it started waiting for a connection (the pool's queue). */
  queuedAt = 0;
  constructor(
    readonly pool: ExchangeQueue,
    readonly req: H1Request,
    /** Replaced for the first request of an authenticated connection ({@link ConnectionAuthenticator}). */
    public handler: H1Handler,
  ) {
    // The body can fail while the exchange waits for a connection (e.g. a size limit): that
    // error must end the exchange, never go unhandled.
    const body = req.body;
    if (body !== null && !Buffer.isBuffer(body)) body.once('error', (e: Error) => this.abortWith(e));
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const conn = this.conn;
    if (conn) conn.destroy();
    else this.pool.dequeue(this);
  }

  private abortWith(err: Error): void {
    if (this.done) return;
    this.abort();
    this.handler.onError(err);
  }

  resume(): void {
    this.conn?.resumeReading();
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(err);
  }
}
