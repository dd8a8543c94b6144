import { TOKEN } from '../../http/fields.js';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { writeSoon } from '../../util/write-burst.js';
import { STATUS_CODES } from 'node:http';

/** What a {@link FastResponse} needs from the connection that owns it. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** `Keep-Alive: timeout=N` seconds; 0 omits the header. */
  readonly keepAliveSeconds: number;
  touch(): void;
  /** The last byte was handed to the kernel; `close` after it when keep-alive was refused. */
  responseDone(res: FastResponse, close: boolean): void;
}

const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Bodies up to this size leave in the same buffer as the head. */
const SMALL_BODY = 16 * 1024;
const NO_BODY_STATUS = (s: number) => s < 200 || s === 204 || s === 304;

let dateSecond = 0;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const s = now - (now % 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(s).toUTCString();
  }
  return dateValue;
}

function invalid(code: string, what: string): TypeError {
  return Object.assign(new TypeError(`Invalid ${what}`), { code });
}

type HeaderValue = string | number | readonly string[];

/**
 * The subset of `http.ServerResponse` the pipeline uses (`writeHead`, `setHeader`, `write`,
 * `end`, `statusCode`, `headersSent`, `writableFinished`, `shouldKeepAlive`, `destroy`, the
 * `close`/`finish`/`drain` events), writing HTTP/1.1 straight to the socket: head and a body
 * given to `end` leave in one write. Field names and values are validated as Node does
 * (`ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`), so no caller can inject a header line.
 */
export class FastResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  shouldKeepAlive: boolean;
  #head: string | undefined;
  #headWritten = false;
  #chunked = false;
  #addTe = false;
  #connGiven = false;
  #noBody: boolean;
  #close = false;
  #contentLength = false;
  readonly #pending = new Map<string, [string, HeaderValue]>();

  constructor(
    private readonly owner: ResponseOwner,
    headRequest: boolean,
    keepAlive: boolean,
  ) {
    super();
    this.#noBody = headRequest;
    this.shouldKeepAlive = keepAlive;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent)
      throw Object.assign(new Error('Cannot set headers after they are sent'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
    checkField(name, value);
    this.#pending.set(name.toLowerCase(), [name, value]);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.#pending.get(name.toLowerCase())?.[1];
  }

  hasHeader(name: string): boolean {
    return this.#pending.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#pending.delete(name.toLowerCase());
  }

  /** `writeHead(status[, statusText][, headers])`; headers as a flat `[name, value, …]` list or an object. */
  writeHead(
    status: number,
    text?: string | readonly string[] | Record<string, HeaderValue | undefined>,
    headers?: readonly string[] | Record<string, HeaderValue | undefined>,
  ): this {
    if (this.headersSent)
      throw Object.assign(new Error('Cannot write headers after they are sent'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
    if (typeof text !== 'string') {
      headers = text;
      text = undefined;
    }
    this.statusCode = status;
    const reason = text ?? (this.statusMessage || STATUS_CODES[status] || 'unknown');
    if (BAD_VALUE.test(reason) || reason.includes('\r') || reason.includes('\n'))
      throw invalid('ERR_INVALID_CHAR', 'status message');
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    let date = false;
    let te = false;
    const add = (name: string, value: HeaderValue) => {
      // Name and value tested apart: a joined `name: value` string would copy every long value.
      checkField(name, value);
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') date = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') {
            this.#connGiven = true;
            if (/(?:^|,)\s*close\s*(?:,|$)/i.test(String(value))) this.#close = true;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') this.#contentLength = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') te = true;
          break;
      }
      if (typeof value === 'object') for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value}\r\n`;
    };
    for (const [lower, [name, value]] of this.#pending) if (!hasName(headers, lower)) add(name, value);
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i] as string, headers[i + 1] as string);
    } else if (headers) {
      for (const name of Object.keys(headers)) {
        const v = (headers as Record<string, HeaderValue | undefined>)[name];
        if (v !== undefined) add(name, v);
      }
    }
    if (!date) head += `Date: ${httpDate()}\r\n`;
    if (NO_BODY_STATUS(status)) this.#noBody = true;
    else if (te || !this.#contentLength) {
      // RFC 9112 §7.1: no length known up front, so the body is chunked (ours when not given).
      this.#chunked = !this.#noBody;
      this.#addTe = !te && !this.#noBody;
    }
    this.#head = head;
    this.headersSent = true;
    return this;
  }

  /** Writes body bytes (chunked when no Content-Length was given). False: wait for `drain`. */
  write(chunk: Buffer | string): boolean {
    if (!this.headersSent) this.writeHead(this.statusCode);
    return this.#send(chunk, false);
  }

  /** Ends the response; a body given here before any head gets its Content-Length (one write). */
  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) {
      if (
        !NO_BODY_STATUS(this.statusCode) &&
        !this.#pending.has('content-length') &&
        !this.#pending.has('transfer-encoding')
      )
        this.#pending.set('content-length', [
          'Content-Length',
          String(chunk === undefined ? 0 : Buffer.byteLength(chunk)),
        ]);
      this.writeHead(this.statusCode);
    }
    this.writableEnded = true;
    this.#send(chunk, true);
    return this;
  }

  destroy(): void {
    this.owner.socket.destroy();
  }

  #send(chunk: Buffer | string | undefined, last: boolean): boolean {
    const socket = this.owner.socket;
    this.owner.touch();
    const data =
      this.#noBody || chunk === undefined || chunk.length === 0
        ? undefined
        : typeof chunk === 'string'
          ? Buffer.from(chunk, 'utf8')
          : chunk;
    let head = '';
    if (!this.#headWritten) {
      this.#headWritten = true;
      const keep = this.shouldKeepAlive && !this.#close;
      if (!keep) this.#close = true;
      head =
        (this.#head as string) +
        (this.#addTe ? 'Transfer-Encoding: chunked\r\n' : '') +
        (this.#connGiven
          ? '\r\n'
          : keep
            ? this.owner.keepAliveSeconds > 0
              ? `Connection: keep-alive\r\nKeep-Alive: timeout=${this.owner.keepAliveSeconds}\r\n\r\n`
              : 'Connection: keep-alive\r\n\r\n'
            : 'Connection: close\r\n\r\n');
    }
    let tail = '';
    if (this.#chunked) {
      if (data !== undefined) {
        head += `${data.length.toString(16)}\r\n`;
        tail = last ? '\r\n0\r\n\r\n' : '\r\n';
      } else if (last) tail = '0\r\n\r\n';
    }
    const done = last ? () => this.#finished() : undefined;
    let out: Buffer | string;
    if (data === undefined) out = head + tail;
    else if (head === '' && tail === '') out = data;
    else if (data.length > SMALL_BODY) {
      socket.cork();
      if (head !== '') socket.write(head, 'latin1');
      const ok =
        tail === '' ? socket.write(data, done) : (socket.write(data), socket.write(tail, 'latin1', done));
      socket.uncork();
      return ok;
    } else {
      // Head and a small body copied into one buffer: one plain write, no cork/writev path.
      out = Buffer.allocUnsafe(head.length + data.length + tail.length);
      out.write(head, 0, 'latin1');
      data.copy(out, head.length);
      if (tail !== '') out.write(tail, head.length + data.length, 'latin1');
    }
    if (!last) return socket.write(out, 'latin1');
    // The response is complete: written with the other writes of this event-loop turn.
    writeSoon(socket, out, done);
    return true;
  }

  #finished(): void {
    this.writableFinished = true;
    this.emit('finish');
    this.owner.responseDone(this, this.#close);
    this.emit('close');
  }
}

function hasName(headers: readonly string[] | Record<string, unknown> | undefined, lower: string): boolean {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2)
      if ((headers[i] as string).toLowerCase() === lower) return true;
    return false;
  }
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) return true;
  return false;
}

function checkField(name: string, value: HeaderValue): void {
  if (!TOKEN.test(name)) throw invalid('ERR_INVALID_HTTP_TOKEN', `header name ${JSON.stringify(name)}`);
  if (typeof value === 'object') {
    for (const v of value)
      if (BAD_VALUE.test(v)) throw invalid('ERR_INVALID_CHAR', `value of header ${name}`);
  } else if (typeof value === 'string' && BAD_VALUE.test(value)) {
    throw invalid('ERR_INVALID_CHAR', `value of header ${name}`);
  }
}
