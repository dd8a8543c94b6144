import { EventEmitter } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseHead, type FastHead } from './parse.js';
import { FastResponse, type ResponseOwner } from './response.js';
import { SHARED_READ_BUFFER, isShared, readAsStream, readIntoShared } from '../../util/shared-read.js';

/** Limits and callbacks of one plain-HTTP listener's fast lane. */
export interface FastLaneOptions {
  readonly maxHeaderSize: number;
  readonly headersTimeout: number;
  readonly keepAliveTimeout: number;
  /** Inactivity while a request is in flight (Node's `server.timeout`). */
  readonly idleTimeout: number;
  /** Node's server for everything outside the fast subset; its handlers are the same. */
  readonly http: HttpServer;
  /**
   * A TLS listener's options (certificate, client CA…): the lane terminates TLS itself and reads
   * the decrypted stream; `http` is then Node's https server, handed TLS sockets.
   */
  readonly tls?: TlsOptions | undefined;
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a client that sent no complete head in time (408) and closes. */
  headersTimedOut(socket: Socket): void;
  /**
   * Decides on a new connection before anything is read from it (per-client caps); false: the
   * callee has answered and closed it, the lane never touches it.
   */
  admit?(socket: Socket): boolean;
}

/**
 * The request object of the fast lane: what the pipeline reads from `IncomingMessage`
 * (method, url, headers, rawHeaders, socket), for a request without content.
 */
class FastRequest extends EventEmitter {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly complete = true;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[];
  constructor(
    head: FastHead,
    readonly socket: Socket,
  ) {
    super();
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

const enum State {
  /** Waiting for (the rest of) a request head. */
  Reading,
  /** A request is being answered; later bytes wait in the buffer (pipelining). */
  Busy,
  Closed,
}

/** One client connection served by the fast lane until it is handed to Node or closes. */
class FastConnection implements ResponseOwner {
  state = State.Reading;
  buf: Buffer | undefined;
  /** When the first byte of the pending head arrived (headers timeout), 0 when none. */
  headSince = 0;
  lastActive = performance.now();
  ended = false;
  res: FastResponse | undefined;
  private req: FastRequest | undefined;
  readonly keepAliveSeconds: number;
  private readonly onData = (d: Buffer) => this.data(d);
  private readonly onRead = (n: number) => {
    this.data(SHARED_READ_BUFFER.subarray(0, n));
    // A partial head, or requests pipelined behind the one being answered, outlive this read.
    const buf = this.buf;
    if (buf !== undefined && isShared(buf)) this.buf = Buffer.from(buf);
  };
  private readonly onEnd = () => this.end();
  private readonly onClose = () => this.closed();
  private readonly onError = () => this.socket.destroy();
  private readonly onDrain = () => this.res?.emit('drain');

  /** Reads land in {@link SHARED_READ_BUFFER} (plain TCP): bytes kept past a read are copied. */
  private readonly shared: boolean;

  constructor(
    private readonly lane: FastLane,
    readonly socket: Socket,
  ) {
    this.keepAliveSeconds = Math.floor(lane.opts.keepAliveTimeout / 1000);
    socket.setNoDelay(true);
    this.shared = lane.opts.tls === undefined && readIntoShared(socket, this.onRead);
    if (!this.shared) socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('drain', this.onDrain);
  }

  touch(): void {
    this.lastActive = performance.now();
  }

  private data(d: Buffer): void {
    this.lastActive = performance.now();
    if (this.buf === undefined) {
      this.buf = d;
      this.headSince = this.lastActive;
    } else this.buf = Buffer.concat([this.buf, d]);
    if (this.state === State.Reading) this.next();
    else if (this.buf.length > this.lane.opts.maxHeaderSize * 2) this.socket.pause();
  }

  /** Serves the next complete head in the buffer, or hands the connection over. */
  private next(): void {
    const buf = this.buf;
    if (buf === undefined) return;
    const head = parseHead(buf, this.lane.opts.maxHeaderSize);
    // A partial head the client will not finish (it half-closed): Node answers it.
    if (head === 'incomplete') return this.ended ? this.handover() : undefined;
    if (head === 'handover') return this.handover();
    this.buf = buf.length === head.length ? undefined : buf.subarray(head.length);
    this.headSince = this.buf === undefined ? 0 : performance.now();
    this.state = State.Busy;
    const keepAlive = !/(?:^|,)\s*close\s*(?:,|$)/i.test(head.headers.connection ?? '');
    const req = new FastRequest(head, this.socket);
    const res = new FastResponse(this, head.method === 'HEAD', keepAlive);
    this.req = req;
    this.res = res;
    this.lane.opts.request(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  }

  responseDone(res: FastResponse, close: boolean): void {
    if (res !== this.res || this.state !== State.Busy) return;
    this.res = undefined;
    this.req = undefined;
    // Requests already received are served while draining (each answered `Connection: close`
    // by the pipeline); a response that closes the connection drops what was pipelined after it.
    if (close || (this.lane.closing && this.buf === undefined)) {
      this.state = State.Closed;
      // Like Node: flush, then close both directions even if the client keeps its side open.
      this.socket.destroySoon();
      return;
    }
    this.state = State.Reading;
    this.lastActive = performance.now();
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== undefined) queueMicrotask(() => this.next());
    else if (this.ended) this.socket.destroySoon();
  }

  /** Gives the socket and the bytes read so far to Node's HTTP server, for good. */
  private handover(): void {
    const socket = this.socket;
    // Node's parser may keep views of what it is given (a body's chunks): its own copy.
    const pending = this.buf !== undefined && isShared(this.buf) ? Buffer.from(this.buf) : this.buf;
    this.buf = undefined;
    this.state = State.Closed;
    if (this.shared) readAsStream(socket);
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('close', this.onClose);
    socket.removeListener('error', this.onError);
    socket.removeListener('drain', this.onDrain);
    this.lane.connections.delete(this);
    // Node's https server runs its HTTP connection listener on 'secureConnection'.
    this.lane.opts.http.emit(this.lane.opts.tls ? 'secureConnection' : 'connection', socket);
    if (pending !== undefined) socket.emit('data', pending);
    if (this.ended) socket.emit('end');
    else if (socket.isPaused()) socket.resume();
  }

  private end(): void {
    this.ended = true;
    if (this.state === State.Reading) {
      if (this.buf !== undefined) return this.handover();
      this.state = State.Closed;
      this.socket.destroySoon();
    }
  }

  private closed(): void {
    this.state = State.Closed;
    this.lane.connections.delete(this);
    const res = this.res;
    this.res = undefined;
    if (res && !res.writableFinished) res.emit('close');
    this.req?.emit('close');
    this.req = undefined;
  }

  /** Timeouts, checked by the lane's sweep. */
  check(now: number): void {
    const o = this.lane.opts;
    if (this.state === State.Reading) {
      if (this.headSince !== 0 && now - this.headSince > o.headersTimeout) {
        this.state = State.Closed;
        this.lane.opts.headersTimedOut(this.socket);
      } else if (
        this.buf === undefined &&
        o.keepAliveTimeout > 0 &&
        now - this.lastActive > o.keepAliveTimeout
      )
        this.socket.destroy();
    } else if (this.state === State.Busy && o.idleTimeout > 0 && now - this.lastActive > o.idleTimeout)
      this.socket.destroy();
  }

  /** Closes the connection if no request is in flight (graceful drain). */
  closeIfIdle(): void {
    if (this.state === State.Reading && this.buf === undefined) {
      this.state = State.Closed;
      this.socket.destroySoon();
    }
  }
}

/**
 * A listener (plain HTTP, or TLS terminated here) that parses the common request itself — `GET`/`HEAD` without a body, a
 * strict subset (see {@link parseHead}) — and answers it through the same pipeline with a
 * lightweight request/response pair, skipping Node's per-request `IncomingMessage` /
 * `ServerResponse` machinery. The first request outside the subset hands the connection, with
 * every byte already read, to Node's HTTP server for the rest of its life; so bodies, upgrades,
 * `Expect`, and anything malformed get Node's parser and its errors unchanged.
 */
export class FastLane {
  readonly server: NetServer;
  readonly connections = new Set<FastConnection>();
  closing = false;
  private readonly sweep: NodeJS.Timeout;

  constructor(readonly opts: FastLaneOptions) {
    if (opts.tls === undefined) {
      this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        if (opts.admit !== undefined && !opts.admit(socket)) return;
        this.connections.add(new FastConnection(this, socket));
      });
    } else {
      // Admission on the TCP connection, before any handshake byte is read (as Node's https).
      // Not half-open: a client that closes right after its handshake must not leave a socket
      // nobody ends (a TLS client's FIN ends the conversation).
      this.server = createTlsServer({ ...opts.tls, ALPNProtocols: ['http/1.1'], noDelay: true }, (socket) =>
        this.connections.add(new FastConnection(this, socket)),
      );
      const admit = opts.admit;
      if (admit !== undefined) this.server.on('connection', (raw: Socket) => void admit(raw));
    }
    const every = Math.max(50, Math.min(1000, Math.floor(opts.headersTimeout / 4)));
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.connections) c.check(now);
    }, every).unref();
    // Node's server never listens itself; 'listening' starts its connection tracking, so
    // handed-over connections keep Node's headers/request timeouts and idle-connection closing.
    opts.http.emit('listening');
  }

  /** Stops accepting; `done` runs once every connection (ours and handed-over ones) is closed. */
  close(done: () => void): void {
    this.closing = true;
    clearInterval(this.sweep);
    let pending = 2;
    const one = () => {
      if (--pending === 0) done();
    };
    this.server.close(one);
    this.opts.http.close(one);
    this.closeIdleConnections();
  }

  closeIdleConnections(): void {
    for (const c of this.connections) c.closeIfIdle();
    this.opts.http.closeIdleConnections();
  }

  closeAllConnections(): void {
    for (const c of this.connections) c.socket.destroy();
    this.opts.http.closeAllConnections();
  }
}
