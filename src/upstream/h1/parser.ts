/**
 * Incremental, strict parser of HTTP/1.1 responses (RFC 9112) read from an upstream connection.
 * Strict on purpose: whatever could be framed two ways (CL + TE, a repeated Content-Length,
 * obs-fold, bare LF, whitespace before a colon, chunk lines or trailers outside the grammar) is
 * an error, never a guess, so the response the client receives is the one the upstream sent and
 * the connection is never reused out of step. Where RFC 9112 allows more than llhttp (Node's and
 * undici's parser) reads the same way, the intersection is accepted: a differential test checks
 * it (`test/upstream/h1-parser.differential.test.ts`).
 */

import { withoutOws } from '../../http/fields.js';

/** A malformed upstream response; `code` is one of the `HPE_*` codes below. */
export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the parser reports to the connection that owns it. */
export interface ParserEvents {
  /** A final (≥ 200) response head; `raw` is `[name, value, …]` as received (latin1). */
  onHead(status: number, statusText: string, raw: string[]): void;
  /** An informational (1xx) response other than 101; 100 Continue releases a waiting body. */
  onInformational(status: number): void;
  /**
   * `last`: this chunk completes a Content-Length body (the end follows at once). `chunk` is a
   * view of the bytes given to `execute`, valid during this call only.
   */
  onBody(chunk: Buffer, last: boolean): void;
  /** The message ended; `reusable` when the connection may carry the next request. */
  onEnd(reusable: boolean): void;
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

/** Largest response head accepted (status line + fields), like nginx's 64 KiB large buffers. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_FIELDS = 256;
const MAX_CHUNK_LINE = 4096;

/** A whole response head, CRLF-terminated lines: status line, then `token ":" OWS field-value`. */
const HEAD =
  /^HTTP\/1\.[01] [1-9]\d\d(?: [\t\x20-\x7e\x80-\xff]*)?\r\n(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*$/;
const STATUS_LINE = /^HTTP\/1\.[01] [1-9]\d\d(?: [\t\x20-\x7e\x80-\xff]*)?\r\n/;
/** One trailer field line without its CRLF: the grammar of a head's field lines (RFC 9112 §7.1.2). */
const FIELD_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;
/** Framing fields, which a trailer section must not carry (RFC 9110 §6.5.1; llhttp refuses CL). */
const FRAMING_FIELD = /^(?:content-length|transfer-encoding):/i;
/** A `close` element in a Connection value (without its OWS). */
const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
/**
 * A `keep-alive` element in a Connection value with its OWS, SP only after the value's start:
 * llhttp does not read `keep-alive<HTAB>` as keep-alive, and it is what lets HTTP/1.0 persist.
 */
const KEEP_ALIVE_TOKEN = /(?:^[ \t]*|,) *keep-alive *(?:,|$)/i;

/** Names what is wrong with a head that failed {@link HEAD}. */
function headError(b: string): ResponseParseError {
  if (!STATUS_LINE.test(b)) return new ResponseParseError('HPE_INVALID_STATUS', 'invalid status line');
  if (/(?:^|[^\r])\n|\r(?!\n)/.test(b)) return new ResponseParseError('HPE_STRICT', 'expected CRLF');
  return new ResponseParseError('HPE_INVALID_HEADER_TOKEN', 'invalid header field');
}

/** `joined` to keep past this call: a copy when it is still a view of the caller's bytes. */
function owned(joined: Buffer, pending: Buffer | undefined): Buffer {
  return pending === undefined ? Buffer.from(joined) : joined;
}

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}
/** `buf.toString('latin1', s, e)` without the argument checks (the bounds are ours). */
function latin1(b: Buffer, s: number, e: number): string {
  return (b as unknown as Latin1Buffer).latin1Slice(s, e);
}
/**
 * A chunk-size line without its CRLF (RFC 9112 §7.1, §7.1.1): hex size, then extensions
 * `;name` or `;name=value`, value a token or a quoted-string (qdtext / quoted-pair, RFC 9110
 * §5.6.4). No whitespace anywhere: the BWS the RFC allows around `;` and `=` is refused by
 * llhttp, and a line two parsers read differently is an error, never a guess.
 */
const CHUNK_SIZE =
  /^([0-9A-Fa-f]{1,12})(?:;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;
const CRLF = 0x0a0d; // '\r\n' read as little-endian uint16
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
const LFCRLF = Buffer.from('\n\r\n');

/**
 * One parser per connection, reset per request. `expectBody` is false for HEAD requests (a
 * response to HEAD never has content, RFC 9110 §9.3.2).
 */
export class ResponseParser {
  private state = State.Done;
  private pending: Buffer | undefined;
  private remaining = 0;
  private headBytes = 0;
  private noBody = false;
  private keepAlive = true;

  constructor(private readonly ev: ParserEvents) {}

  /** Arms the parser for the response to the next request. */
  reset(headRequest: boolean): void {
    this.state = State.Head;
    this.pending = undefined;
    this.headBytes = 0;
    this.noBody = headRequest;
    this.keepAlive = true;
  }

  /** True while a response is expected or being read. */
  get active(): boolean {
    return this.state !== State.Done;
  }

  /** Whether the body is delimited by the connection closing (so EOF completes it). */
  get readsUntilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * Feeds bytes read from the socket. Throws {@link ResponseParseError}. `data` is only read
   * during the call (the connection may reuse its memory for the next read): a partial line kept
   * for later is copied, and {@link ParserEvents.onBody} chunks are views the receiver copies.
   */
  execute(data: Buffer): void {
    let buf = data;
    while (buf.length > 0) {
      switch (this.state) {
        case State.Head: {
          const joined = this.pending ? Buffer.concat([this.pending, buf]) : buf;
          const end = joined.indexOf(CRLFCRLF, this.pending ? Math.max(0, this.pending.length - 3) : 0);
          if (end < 0) {
            if (joined.length > MAX_HEAD_BYTES)
              throw new ResponseParseError('HPE_HEADER_OVERFLOW', 'response head too large');
            // A head ended by bare LFs would otherwise wait for a CRLFCRLF that never comes.
            if (joined.indexOf(LFLF) >= 0 || joined.indexOf(LFCRLF) >= 0)
              throw new ResponseParseError('HPE_STRICT', 'expected CRLF');
            this.pending = owned(joined, this.pending);
            return;
          }
          this.pending = undefined;
          this.headBytes += end + 4;
          if (this.headBytes > MAX_HEAD_BYTES)
            throw new ResponseParseError('HPE_HEADER_OVERFLOW', 'response head too large');
          buf = joined.subarray(end + 4);
          this.head(joined, end);
          if ((this.state as State) === State.Done) return this.finish(buf);
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length);
          const chunk = n === buf.length ? buf : buf.subarray(0, n);
          buf = n === buf.length ? EMPTY : buf.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.Done;
          this.ev.onBody(chunk, this.state === State.Done);
          if (this.state === State.Done) return this.finish(buf);
          break;
        }
        case State.UntilClose:
          this.ev.onBody(buf, false);
          return;
        case State.ChunkSize:
        case State.Trailers: {
          const joined = this.pending ? Buffer.concat([this.pending, buf]) : buf;
          const eol = joined.indexOf('\r\n');
          if (eol < 0) {
            if (joined.length > MAX_CHUNK_LINE)
              throw new ResponseParseError('HPE_CHUNK_SIZE', 'chunk line too long');
            this.pending = owned(joined, this.pending);
            return;
          }
          this.pending = undefined;
          const line = joined.toString('latin1', 0, eol);
          buf = joined.subarray(eol + 2);
          if (this.state === State.Trailers) {
            if (line === '') {
              this.state = State.Done;
              return this.finish(buf);
            }
            this.headBytes += eol + 2;
            if (this.headBytes > MAX_HEAD_BYTES || !FIELD_LINE.test(line) || FRAMING_FIELD.test(line))
              throw new ResponseParseError('HPE_INVALID_TRAILER', 'invalid or oversized trailer section');
            break;
          }
          const m = CHUNK_SIZE.exec(line);
          if (!m) throw new ResponseParseError('HPE_CHUNK_SIZE', 'invalid chunk size line');
          const size = parseInt(m[1] as string, 16);
          if (size === 0) {
            this.state = State.Trailers;
            this.headBytes = 0;
          } else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length);
          const chunk = n === buf.length ? buf : buf.subarray(0, n);
          buf = n === buf.length ? EMPTY : buf.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          this.ev.onBody(chunk, false);
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after chunk data may arrive split across reads.
          if (this.remaining === 2 && buf.length >= 2) {
            if (buf.readUInt16LE(0) !== CRLF)
              throw new ResponseParseError('HPE_STRICT', 'missing CRLF after chunk');
            buf = buf.subarray(2);
          } else {
            const expected = this.remaining === 2 ? 0x0d : 0x0a;
            if (buf[0] !== expected) throw new ResponseParseError('HPE_STRICT', 'missing CRLF after chunk');
            buf = buf.subarray(1);
            if (--this.remaining > 0) break;
          }
          this.state = State.ChunkSize;
          break;
        }
        case State.Done:
          throw new ResponseParseError('HPE_INVALID_CONSTANT', 'data after the end of the response');
      }
    }
  }

  /** The connection reached EOF: completes a close-delimited body, otherwise it is an error. */
  eof(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.ev.onEnd(false);
      return;
    }
    if (this.state !== State.Done)
      throw new ResponseParseError('UND_ERR_SOCKET', 'upstream closed the connection mid-response');
  }

  /**
   * The message is complete. Bytes after it (we never pipeline) mean the upstream is out of step:
   * the response stands (`onEnd` first, not reusable), then the error is reported.
   */
  private finish(rest: Buffer): void {
    this.ev.onEnd(this.keepAlive && rest.length === 0);
    if (rest.length > 0)
      throw new ResponseParseError('HPE_INVALID_CONSTANT', 'data after the end of the response');
  }

  /** Parses the head in `buf[0, end)` (`end` is where the blank line's CRLF starts). */
  private head(buf: Buffer, end: number): void {
    // One native conversion and one compiled regex check the whole grammar (RFC 9112 §4, §5:
    // no whitespace before a colon, no obs-fold, CRLF only); the split below can then trust it.
    const b = latin1(buf, 0, end + 2);
    if (!HEAD.test(b)) throw headError(b);
    const minor = b.charCodeAt(7) - 0x30;
    const status = Number(b.slice(9, 12));
    let i = b.indexOf('\r\n', 12);
    const statusText = i > 13 ? b.slice(13, i) : '';
    const raw: string[] = [];
    let length: number | undefined;
    let chunked = false;
    let te = false;
    let closeToken = false;
    let keepAliveToken = false;
    while (i < end) {
      const start = i + 2;
      const colon = b.indexOf(':', start);
      i = b.indexOf('\r\n', colon);
      const name = b.slice(start, colon);
      const value = withoutOws(b, colon + 1, i);
      if (raw.push(name, value) > 2 * MAX_FIELDS)
        throw new ResponseParseError('HPE_HEADER_OVERFLOW', 'too many response header fields');
      switch (name.length) {
        case 10:
          if (name.toLowerCase() === 'connection') {
            if (CLOSE_TOKEN.test(value)) closeToken = true;
            if (KEEP_ALIVE_TOKEN.test(b.slice(colon + 1, i))) keepAliveToken = true;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') length = contentLength(b.slice(colon + 1, i), length);
          break;
        case 16:
          // llhttp reads Proxy-Connection like Connection: its close is heeded (its keep-alive is not).
          if (name.toLowerCase() === 'proxy-connection' && CLOSE_TOKEN.test(value)) closeToken = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            te = true;
            chunked = transferCoding(b.slice(colon + 1, i), chunked);
          }
          break;
      }
    }
    // RFC 9112 §9.3: `close` wins; HTTP/1.0 persists only with keep-alive.
    const close = closeToken || (minor === 0 && !keepAliveToken);
    if (status < 200) {
      if (status === 101)
        throw new ResponseParseError('HPE_INVALID_STATUS', 'unexpected 101 Switching Protocols');
      // The connection would close before the final response (llhttp refuses what follows).
      if (close)
        throw new ResponseParseError('HPE_CLOSED_CONNECTION', 'informational response closes the connection');
      this.headBytes = 0;
      this.ev.onInformational(status);
      return;
    }
    if (te && length !== undefined)
      throw new ResponseParseError(
        'HPE_UNEXPECTED_CONTENT_LENGTH',
        'both Transfer-Encoding and Content-Length',
      );
    this.keepAlive = !close;
    if (this.noBody || status === 204 || status === 304) {
      this.state = State.Done;
      this.ev.onHead(status, statusText, raw);
      return;
    }
    if (te) {
      this.state = chunked ? State.ChunkSize : State.UntilClose;
      if (!chunked) this.keepAlive = false;
    } else if (length !== undefined) {
      this.remaining = length;
      this.state = length === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    this.ev.onHead(status, statusText, raw);
  }
}

const EMPTY = Buffer.alloc(0);
/**
 * One Transfer-Encoding field value: `coding *( OWS "," OWS coding )` without empty elements or
 * parameters, and only SP after the last coding (llhttp does not read `chunked<HTAB>` as chunked).
 */
const TE_LIST = /^[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)* *$/;

/**
 * Reads one Transfer-Encoding field (`raw`: its value with OWS) after earlier ones whose codings
 * ended with chunked when `chunkedSoFar`; returns whether the codings now end with chunked. Several
 * fields form one list (RFC 9110 §5.3). A response whose final coding is not chunked is read
 * until close (RFC 9112 §6.3); chunked anywhere but last (applied twice, or under another coding,
 * RFC 9112 §6.1) is an error, never a guess.
 */
function transferCoding(raw: string, chunkedSoFar: boolean): boolean {
  if (!TE_LIST.test(raw) || chunkedSoFar)
    throw new ResponseParseError('HPE_INVALID_TRANSFER_ENCODING', 'invalid Transfer-Encoding');
  const codings = raw.split(',');
  for (let k = 0; k < codings.length - 1; k++)
    if ((codings[k] as string).trim().toLowerCase() === 'chunked')
      throw new ResponseParseError('HPE_INVALID_TRANSFER_ENCODING', 'chunked is not the final coding');
  return (codings[codings.length - 1] as string).trim().toLowerCase() === 'chunked';
}

/** `OWS 1*DIGIT OWS`, except HTAB after the digits, which llhttp refuses. */
const CONTENT_LENGTH = /^[ \t]*(\d{1,15}) *$/;

/**
 * RFC 9112 §6.3: one Content-Length field of 1*DIGIT (`raw`: the field value with its OWS). A
 * repeated field or a list is an error even when the values are identical (RFC 9110 §8.6 lets a
 * recipient accept those; llhttp and nginx refuse them, and a length is never guessed).
 */
function contentLength(raw: string, previous: number | undefined): number {
  if (previous !== undefined)
    throw new ResponseParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'repeated Content-Length');
  const m = CONTENT_LENGTH.exec(raw);
  if (!m) throw new ResponseParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
  return Number(m[1]);
}
