import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Client, type Dispatcher } from 'undici';
import { MemorySocket } from './memory-socket.js';

/** What one HTTP/1.1 client made of the bytes an upstream sent for one request. */
export interface ResponseReading {
  /** Informational (1xx) statuses seen before the final head. */
  readonly informational: number[];
  /** The final head, when one was accepted. */
  readonly head: { status: number; statusText: string; rawHeaders: string[] } | undefined;
  /** Whether the connection may carry another request after this message (llhttp's view). */
  readonly keepAlive: boolean | undefined;
  /** Body bytes delivered (decoded from chunked framing). */
  readonly body: Buffer;
  /** The message ended cleanly (its framing said so, or EOF ended a close-delimited body). */
  readonly complete: boolean;
  /**
   * The first error reported, if any: `HPE…` when llhttp refused the bytes, otherwise the
   * client's own (`ECONNRESET` at an early EOF, undici's `UND_ERR_*` policies).
   */
  readonly error: string | undefined;
}

/** Options for one exchange. */
export interface ExchangeOptions {
  /** The request was HEAD (its response never has content). */
  readonly head: boolean;
  /** llhttp's limit on the head, as Node counts it. */
  readonly maxHeaderSize: number;
}

const SETTLE_TIMEOUT_MS = 2000;

function latin1(b: Buffer): string {
  return b.toString('latin1');
}

/**
 * Node's `http.request` (native llhttp, response mode, strict: no `insecureHTTPParser`) reading
 * `chunks` as the response to a GET or HEAD, one `execute` per chunk, then EOF.
 */
export function nodeResponse(chunks: readonly Buffer[], opts: ExchangeOptions): Promise<ResponseReading> {
  const socket = new MemorySocket();
  const informational: number[] = [];
  let head: ResponseReading['head'];
  let keepAlive: boolean | undefined;
  const body: Buffer[] = [];
  let complete = false;
  let error: string | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('http.request did not settle')), SETTLE_TIMEOUT_MS);
    let res: IncomingMessage | undefined;
    let finishing = false;
    // Called on any terminal event; later events (an error on bytes after the message, EOF) and
    // body data already parsed arrive over the next turns.
    const finish = async () => {
      if (finishing) return;
      finishing = true;
      for (let i = 0; i < 4 || (res && !res.readableEnded && !res.destroyed && i < 8); i++) await nextTurn();
      clearTimeout(timer);
      socket.destroy();
      resolve({ informational, head, keepAlive, body: Buffer.concat(body), complete, error });
    };
    const req = httpRequest({
      createConnection: () => socket,
      method: opts.head ? 'HEAD' : 'GET',
      path: '/',
      headers: { host: 'upstream.test', connection: 'keep-alive' },
      maxHeaderSize: opts.maxHeaderSize,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
    });
    req.on('information', (info: { statusCode: number }) => informational.push(info.statusCode));
    req.on('response', (r: IncomingMessage) => {
      res = r;
      head = { status: r.statusCode ?? 0, statusText: r.statusMessage ?? '', rawHeaders: [...r.rawHeaders] };
      keepAlive = req.shouldKeepAlive;
      r.on('data', (c: Buffer) => body.push(c));
      r.on('end', () => {
        complete = r.complete;
        void finish();
      });
      r.on('error', (e: NodeJS.ErrnoException) => {
        error ??= e.code ?? e.message;
        void finish();
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      void finish();
    });
    req.once('socket', () => socket.deliver(chunks, true));
    socket.once('close', () => void finish());
    req.end();
  });
}

/**
 * undici's `Client` (its own llhttp build, response mode) reading `chunks` as the response to a
 * GET or HEAD, then EOF. undici reads with `socket.read()`, so each chunk is delivered on its
 * own turn to keep the split.
 */
export function undiciResponse(chunks: readonly Buffer[], opts: ExchangeOptions): Promise<ResponseReading> {
  const socket = new MemorySocket();
  const informational: number[] = [];
  let head: ResponseReading['head'];
  const body: Buffer[] = [];
  let complete = false;
  let error: string | undefined;
  const client = new Client('http://upstream.test', {
    // The connector must answer asynchronously, like a real connect, or undici never writes.
    connect: (_o, cb) => queueMicrotask(() => cb(null, socket as unknown as Socket)),
    maxHeaderSize: opts.maxHeaderSize,
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 1,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('undici did not settle')), SETTLE_TIMEOUT_MS);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      void client.destroy().catch(() => {});
      resolve({ informational, head, keepAlive: undefined, body: Buffer.concat(body), complete, error });
    };
    const handler: Dispatcher.DispatchHandler = {
      onConnect() {},
      onHeaders(status: number, raw: Buffer[], _resume: () => void, statusText: string) {
        if (status < 200) informational.push(status);
        else head = { status, statusText, rawHeaders: raw.map(latin1) };
        return true;
      },
      onData(chunk: Buffer) {
        body.push(Buffer.from(chunk));
        return true;
      },
      onComplete() {
        complete = true;
        setImmediate(finish);
      },
      onError(err: Error & { code?: string }) {
        // undici's parser errors carry no code, only their name and llhttp's reason.
        error ??= err.name === 'HTTPParserError' ? `HPE(${err.message})` : (err.code ?? err.message);
        setImmediate(finish);
      },
    };
    client.dispatch(
      { method: opts.head ? 'HEAD' : 'GET', path: '/', headers: { host: 'upstream.test' } },
      handler,
    );
    void (async () => {
      await nextTurn();
      for (const c of chunks) {
        if (done || socket.destroyed) return;
        socket.deliver([c], false);
        await nextTurn();
      }
      socket.deliver([], true);
      await nextTurn();
      await nextTurn();
      finish();
    })();
  });
}
