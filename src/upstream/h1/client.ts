import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { ResponseParser, type ParserEvents } from './parser.js';
import { writeSoon } from '../../util/write-burst.js';
import { H1Error, isChunked, markUnsent, requestHead, type H1Request } from './request-head.js';
import { WaitQueue } from './wait-queue.js';
import { Exchange, type ExchangeConnection } from './exchange.js';
import { SHARED_READ_BUFFER } from '../../util/shared-read.js';
import type { ConnectionAuthenticator, H1Exchange, H1Handler, H1PoolOptions } from './types.js';

export { H1Error, type H1Request } from './request-head.js';
export type { ConnectionAuthenticator, H1Exchange, H1Handler, H1PoolOptions } from './types.js';

const RETRY_SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const enum Phase {
  Connecting,
  Idle,
  Headers,
  Body,
}

/** One keep-alive connection: a socket, its parser, at most one exchange at a time. */
class Connection implements ParserEvents, ExchangeConnection {
  readonly parser = new ResponseParser(this);
  exchange: Exchange | undefined;
  phase = Phase.Connecting;
  deadline: number;
  /** Served at least one request: an error before any byte may be a stale keep-alive. */
  reused = false;
  /** Reading paused because the client is slow: our wait, not the upstream's, so no body timeout. */
  paused = false;
  private received = false;
  private ended = false;
  private reusable = false;
  private bodyPending = false;
  private closed = false;
  /** The pool's authenticator ran for this connection (it runs once, before the first request). */
  private authenticated = false;

  /**
   * @param shared the socket reads into {@link SHARED_READ_BUFFER} (net `onread`) and calls
   *   {@link Connection.onRead}: no fresh ArrayBuffer per read and no 'data' event. Nothing may
   *   keep a view of it: the parser copies a partial line it keeps, {@link Connection.onBody}
   *   hands handlers copies. Otherwise (TLS) the socket emits 'data' with buffers of its own.
   */
  constructor(
    private readonly pool: H1Pool,
    readonly socket: Socket,
    first: Exchange,
    private readonly shared: boolean,
  ) {
    this.exchange = first;
    first.conn = this;
    this.deadline = performance.now() + pool.opts.connectTimeout;
    socket.setNoDelay(true);
    if (!shared) socket.on('data', (d: Buffer) => this.onSocketData(d));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (e: Error) => this.close(e));
    socket.on('close', () => this.close(new H1Error('UND_ERR_SOCKET', 'upstream closed the connection')));
    socket.on('drain', () => this.body?.resume());
  }

  private body: Readable | null = null;
  private stopBody: (() => void) | undefined;

  connected(): void {
    const ex = this.exchange;
    if (!ex) return this.pool.release(this, true);
    this.send(ex);
  }

  send(ex: Exchange, extra?: readonly string[]): void {
    const auth = this.pool.opts.authenticate;
    if (auth !== undefined && !this.authenticated) return this.authenticate(ex, auth);
    this.exchange = ex;
    ex.conn = this;
    const req = extra ? { ...ex.req, headers: [...ex.req.headers, ...extra] } : ex.req;
    this.received = false;
    this.ended = false;
    this.paused = false;
    this.parser.reset(req.method === 'HEAD');
    this.phase = Phase.Headers;
    this.deadline = performance.now() + this.pool.opts.headersTimeout;
    const chunked = isChunked(req);
    let head: string;
    try {
      head = requestHead(req, chunked);
    } catch (e) {
      this.exchange = undefined;
      ex.conn = undefined;
      this.pool.release(this, false);
      ex.fail(e as Error);
      return;
    }
    const body = req.body;
    if (body === null) {
      this.bodyPending = false;
      // Bodiless: the head completes the request; written with the other writes of this turn.
      writeSoon(this.socket, head);
      return;
    }
    if (Buffer.isBuffer(body)) {
      // A body read in full before the connection was taken: head and body in one write.
      this.bodyPending = false;
      const out = Buffer.allocUnsafe(head.length + body.length);
      out.write(head, 0, 'latin1');
      body.copy(out, head.length);
      this.socket.write(out);
      return;
    }
    this.bodyPending = true;
    this.body = body;
    this.socket.cork();
    this.socket.write(head, 'latin1');
    const socket = this.socket;
    const pool = this.pool;
    let left = req.contentLength ?? Infinity;
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      // The headers timeout counts from the last byte of the request we wrote.
      this.deadline = performance.now() + pool.opts.headersTimeout;
      left -= chunk.length;
      if (left < 0)
        return onError(new H1Error('ERR_BODY_LENGTH', 'request body longer than its Content-Length'));
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        process.nextTick(uncork, socket);
      } else ok = socket.write(chunk);
      if (!ok) body.pause();
    };
    const onEnd = () => {
      cleanup();
      if (left > 0 && left !== Infinity)
        return onError(new H1Error('ERR_BODY_LENGTH', 'request body shorter than its Content-Length'));
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      if (this.phase === Phase.Headers) this.deadline = performance.now() + pool.opts.headersTimeout;
      if (this.ended) this.finish();
    };
    const onError = (e: Error) => {
      cleanup();
      if (this.exchange === ex) {
        this.exchange = undefined;
        ex.fail(e);
      }
      this.destroy();
    };
    const cleanup = () => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('error', onError);
      this.bodyPending = false;
      this.body = null;
      this.stopBody = undefined;
    };
    this.stopBody = cleanup;
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    process.nextTick(uncork, socket);
  }

  /** Runs the pool's authenticator, then sends `ex` with its header fields; fails `ex` if it rejects. */
  private authenticate(ex: Exchange, auth: ConnectionAuthenticator): void {
    this.authenticated = true;
    this.exchange = ex;
    ex.conn = this;
    this.phase = Phase.Headers;
    this.deadline = performance.now() + this.pool.opts.headersTimeout;
    auth(ex, ex.handler).then(
      (a) => {
        if (this.closed || ex.done || this.exchange !== ex) return;
        ex.handler = a.handler;
        this.send(ex, a.headers);
      },
      (e: Error) => {
        if (this.exchange === ex) this.exchange = undefined;
        this.destroy();
        ex.fail(e);
      },
    );
  }

  resumeReading(): void {
    this.paused = false;
    if (this.phase === Phase.Body) this.deadline = performance.now() + this.pool.opts.bodyTimeout;
    this.socket.resume();
  }

  onInformational(): void {
    this.deadline = performance.now() + this.pool.opts.headersTimeout;
  }

  onHead(status: number, statusText: string, raw: string[]): void {
    const ex = this.exchange;
    if (!ex || ex.done) return;
    this.phase = Phase.Body;
    this.deadline = performance.now() + this.pool.opts.bodyTimeout;
    ex.handler.onHeaders(status, statusText, raw);
  }

  onBody(chunk: Buffer, last: boolean): void {
    const ex = this.exchange;
    if (!ex || ex.done) return;
    this.deadline = performance.now() + this.pool.opts.bodyTimeout;
    // A view of the shared read buffer: the handler may keep the chunk (a queued write, a cache
    // capture), so it gets a copy (small ones from Node's buffer pool).
    if (!ex.handler.onData(this.shared ? Buffer.from(chunk) : chunk, last) && !last) {
      this.paused = true;
      this.socket.pause();
    }
  }

  onEnd(reusable: boolean): void {
    this.ended = true;
    this.reusable = reusable;
  }

  /** `n` bytes were read into {@link SHARED_READ_BUFFER}. */
  onRead(n: number): void {
    this.onSocketData(SHARED_READ_BUFFER.subarray(0, n));
  }

  private onSocketData(d: Buffer): void {
    const ex = this.exchange;
    if (!ex) return this.destroy();
    this.received = true;
    try {
      this.parser.execute(d);
    } catch (e) {
      if (this.ended) this.reusable = false;
      else return this.close(e as Error);
    }
    if (this.ended) this.finish();
  }

  /**
   * The response ended: report, then reuse or close. A request body still being sent (the
   * upstream answered early, e.g. 413) is abandoned and the connection closed.
   */
  private finish(): void {
    const body = this.body;
    if (body) {
      this.stopBody?.();
      this.reusable = false;
      body.resume();
    }
    const ex = this.exchange;
    this.ended = false;
    this.exchange = undefined;
    this.phase = Phase.Idle;
    this.deadline = performance.now() + this.pool.opts.keepAliveTimeout;
    if (ex && !ex.done) {
      ex.done = true;
      ex.conn = undefined;
      ex.handler.onComplete();
    }
    this.reused = true;
    // A handler may have paused reading on a chunk whose read also held the end: the next
    // exchange must find the socket flowing.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.reusable && !this.closed && this.socket.readyState === 'open') this.pool.release(this, false);
    else this.destroy();
  }

  private onSocketEnd(): void {
    if (this.exchange && this.parser.readsUntilClose) {
      try {
        this.parser.eof();
      } catch (e) {
        return this.close(e as Error);
      }
      this.reusable = false;
      this.finish();
      return;
    }
    this.close(new H1Error('UND_ERR_SOCKET', 'upstream closed the connection'));
  }

  /** A timeout found by the pool's sweep. */
  timeout(): void {
    const code =
      this.phase === Phase.Connecting
        ? 'UND_ERR_CONNECT_TIMEOUT'
        : this.phase === Phase.Headers
          ? 'UND_ERR_HEADERS_TIMEOUT'
          : this.phase === Phase.Body
            ? 'UND_ERR_BODY_TIMEOUT'
            : '';
    if (code === '') return this.destroy();
    this.close(new H1Error(code, 'upstream timed out'));
  }

  destroy(): void {
    this.close(undefined);
  }

  /** Closes the connection once; an exchange still on it fails with `err` (or a retry). */
  close(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    const ex = this.exchange;
    this.exchange = undefined;
    this.stopBody?.();
    this.socket.destroy();
    this.pool.removed(this);
    if (!ex || ex.done) return;
    ex.conn = undefined;
    if (
      this.reused &&
      !this.received &&
      !ex.retried &&
      ex.req.body === null &&
      RETRY_SAFE.has(ex.req.method) &&
      this.phase === Phase.Headers &&
      (err === undefined || (err as H1Error).code !== 'UND_ERR_HEADERS_TIMEOUT')
    ) {
      // A keep-alive connection the upstream closed just as we reused it (RFC 9112 §9.3.1).
      ex.retried = true;
      this.pool.dispatch(ex);
      return;
    }
    const e = err ?? new H1Error('UND_ERR_SOCKET', 'upstream connection closed');
    ex.fail(this.phase === Phase.Connecting ? markUnsent(e) : e);
  }
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/**
 * A keep-alive HTTP/1.1 connection pool to one upstream origin: bounded connections, LIFO reuse
 * of idle ones, one request per connection at a time (no pipelining), connect / headers / body /
 * keep-alive timeouts checked by one sweep timer instead of a timer per request. When every
 * connection is busy a request waits in a bounded queue ({@link WaitQueue}: `maxQueue`,
 * `queueTimeout`) and fails with `ERR_QUEUE_FULL` / `ERR_QUEUE_TIMEOUT` beyond it.
 */
export class H1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: WaitQueue<Exchange>;
  private sweep: NodeJS.Timeout | undefined;
  private closing: (() => void) | undefined;
  private readonly sweepMs: number;

  constructor(readonly opts: H1PoolOptions) {
    this.queue = new WaitQueue(opts.maxQueue ?? Infinity, opts.queueTimeout ?? 0);
    const smallest = Math.min(
      opts.connectTimeout,
      opts.headersTimeout,
      opts.bodyTimeout,
      opts.keepAliveTimeout,
      opts.queueTimeout || Infinity,
    );
    this.sweepMs = Math.min(1000, Math.max(5, Math.floor(smallest / 10)));
  }

  /** Open connections (connecting, busy or idle). */
  get size(): number {
    return this.all.size;
  }

  /** Sends `req`; the handler hears the outcome. */
  request(req: H1Request, handler: H1Handler): H1Exchange {
    const ex = new Exchange(this, req, handler);
    if (this.closing) {
      process.nextTick(() => ex.fail(new H1Error('UND_ERR_CLOSED', 'upstream pool closed')));
      return ex;
    }
    this.dispatch(ex);
    return ex;
  }

  /** @internal */
  dispatch(ex: Exchange): void {
    const conn = this.idle.pop();
    if (conn) return conn.send(ex);
    if (this.all.size < this.opts.maxConnections) return this.open(ex);
    if (this.queue.push(ex, performance.now())) return;
    const { maxConnections, maxQueue } = this.opts;
    const err = new H1Error(
      'ERR_QUEUE_FULL',
      `all ${maxConnections} connections busy and ${maxQueue} requests waiting`,
    );
    // Reported after `request()` returned, like every other outcome.
    process.nextTick(() => ex.fail(err));
  }

  /** @internal */
  dequeue(ex: Exchange): void {
    this.queue.remove(ex);
  }

  private open(ex: Exchange): void {
    const { host, port, tls } = this.opts;
    // The read callback is armed before the connection object exists (first read after connect).
    const box: { conn?: Connection } = {};
    const socket = tls
      ? tlsConnect({ ...tls, host, port, ALPNProtocols: ['http/1.1'] })
      : netConnect({
          host,
          port,
          onread: {
            buffer: SHARED_READ_BUFFER,
            callback: (n: number) => {
              box.conn?.onRead(n);
              return true;
            },
          },
        });
    const conn = new Connection(this, socket, ex, tls === undefined);
    box.conn = conn;
    this.all.add(conn);
    socket.once(tls ? 'secureConnect' : 'connect', () => conn.connected());
    this.sweep ??= setInterval(() => this.check(), this.sweepMs).unref();
  }

  /** @internal A connection is free: the next queued exchange takes it, or it waits idle. */
  release(conn: Connection, fresh: boolean): void {
    const next = this.queue.shift();
    if (next) return conn.send(next);
    if (this.closing) return conn.destroy();
    if (fresh) conn.reused = false;
    conn.phase = Phase.Idle;
    conn.deadline = performance.now() + this.opts.keepAliveTimeout;
    this.idle.push(conn);
  }

  /** @internal */
  removed(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.queue.shift();
    if (next) this.open(next);
    if (this.all.size === 0) {
      if (this.sweep) clearInterval(this.sweep);
      this.sweep = undefined;
      this.closing?.();
    }
  }

  private check(): void {
    const now = performance.now();
    for (const conn of this.all) if (now >= conn.deadline && !conn.paused) conn.timeout();
    if (this.queue.length > 0) this.queue.expire(now, this.queueTimedOut);
  }

  private readonly queueTimedOut = () =>
    new H1Error('ERR_QUEUE_TIMEOUT', `no free connection within ${this.opts.queueTimeout} ms`);

  /** Stops taking requests, closes idle connections, resolves when the busy ones finished. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.closing = resolve;
      for (const ex of this.queue.drain()) ex.fail(new H1Error('UND_ERR_CLOSED', 'upstream pool closed'));
      for (const conn of this.idle.splice(0)) conn.destroy();
      if (this.all.size === 0) resolve();
    });
  }

  /** Closes every connection now; exchanges in flight fail. */
  destroy(): Promise<void> {
    const done = this.close();
    for (const conn of [...this.all]) conn.close(new H1Error('UND_ERR_DESTROYED', 'upstream pool destroyed'));
    return done;
  }
}
