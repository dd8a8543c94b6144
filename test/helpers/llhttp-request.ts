import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { MemorySocket } from './memory-socket.js';

/** One request as Node's `http.Server` (llhttp, request mode) read it. */
export interface ReferenceRequest {
  /** The server event it arrived with. */
  readonly event: 'request' | 'checkContinue' | 'checkExpectation' | 'upgrade' | 'connect';
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** llhttp's `should_keep_alive` for this message (`res.shouldKeepAlive` as Node set it). */
  readonly keepAlive: boolean;
  /** Body bytes read; `undefined` when the request never ended (upgrade, connect, EOF mid-body). */
  readonly body: Buffer | undefined;
}

/** Everything Node's server made of one connection's bytes. */
export interface RequestReading {
  readonly requests: ReferenceRequest[];
  /** The `clientError` code (`HPE_*`), if llhttp refused something. */
  readonly error: string | undefined;
}

interface Pending {
  readonly requests: ReferenceRequest[];
  error: string | undefined;
  /** Requests whose body is still being read, each with its completion callback. */
  readonly settlers: Set<(complete: boolean) => void>;
}

const SETTLE_TIMEOUT_MS = 2000;

/**
 * Node's own HTTP/1.1 request parser as a reference: an `http.Server` created with the options
 * `src/server/listeners.ts` gives it (`maxHeaderSize`, `requireHostHeader: false`,
 * `joinDuplicateHeaders: false`, an `upgrade` listener), never listening, fed through
 * {@link MemorySocket}s so each chunk is one `execute` of llhttp.
 */
export class LlhttpRequestReference {
  readonly server: Server;
  private readonly pending = new Map<Duplex, Pending>();

  constructor(readonly maxHeaderSize: number) {
    this.server = createServer({ maxHeaderSize, requireHostHeader: false, joinDuplicateHeaders: false });
    const on = (event: ReferenceRequest['event']) => (req: IncomingMessage, res: ServerResponse) =>
      this.request(event, req, res);
    this.server.on('request', on('request'));
    this.server.on('checkContinue', on('checkContinue'));
    this.server.on('checkExpectation', on('checkExpectation'));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      this.record('upgrade', req, false, undefined);
      socket.destroy();
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      this.record('connect', req, false, undefined);
      socket.destroy();
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const p = this.pending.get(socket);
      if (p && p.error === undefined) p.error = err.code ?? err.message;
      // Like the listener's 400 then close, a turn later: requests read before the error end first.
      setImmediate(() => socket.destroy());
    });
  }

  /** Feeds `chunks` (one read each) then EOF, and resolves once Node is done with them. */
  read(chunks: readonly Buffer[]): Promise<RequestReading> {
    const socket = new MemorySocket();
    const p: Pending = { requests: [], error: undefined, settlers: new Set() };
    this.pending.set(socket, p);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('Node http.Server did not settle'));
      }, SETTLE_TIMEOUT_MS);
      socket.once('close', () => {
        // A body already read completes on the next turns; one cut short by EOF never will.
        const done = (turns: number) => {
          if (p.settlers.size > 0 && turns > 0) return void setImmediate(() => done(turns - 1));
          for (const settle of p.settlers) settle(false);
          clearTimeout(timer);
          this.pending.delete(socket);
          resolve({ requests: p.requests, error: p.error });
        };
        setImmediate(() => done(3));
      });
      this.server.emit('connection', socket);
      socket.deliver(chunks, true);
      // Node half-closes after answering; once every byte was offered, nothing more can happen.
      socket.once('end', () => setImmediate(() => socket.destroy()));
    });
  }

  private request(event: ReferenceRequest['event'], req: IncomingMessage, res: ServerResponse): void {
    const keepAlive = res.shouldKeepAlive;
    const p = this.pending.get(req.socket);
    if (!p) return;
    const body: Buffer[] = [];
    const entry = this.record(event, req, keepAlive, body);
    let settled = false;
    const settle = (complete: boolean) => {
      if (settled) return;
      settled = true;
      if (entry)
        p.requests[entry.index] = { ...entry.value, body: complete ? Buffer.concat(body) : undefined };
      p.settlers.delete(settle);
      if (complete) res.end();
    };
    p.settlers.add(settle);
    req.on('data', (c: Buffer) => body.push(c));
    req.once('end', () => settle(true));
    req.on('error', () => {});
  }

  private record(
    event: ReferenceRequest['event'],
    req: IncomingMessage,
    keepAlive: boolean,
    body: Buffer[] | undefined,
  ): { index: number; value: ReferenceRequest } | undefined {
    const p = this.pending.get(req.socket);
    if (!p) return undefined;
    const value: ReferenceRequest = {
      event,
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      rawHeaders: [...req.rawHeaders],
      headers: { ...req.headers },
      keepAlive,
      body: body === undefined ? undefined : Buffer.alloc(0),
    };
    p.requests.push(value);
    return { index: p.requests.length - 1, value };
  }
}
