import type { Readable } from 'node:stream';
import { FIELD_CTL, TOKEN } from '../../http/fields.js';

/** One request to send. `headers` is a flat `[name, value, …]` list; Host included. */
export interface H1Request {
  readonly method: string;
  readonly path: string;
  /**
   * Header fields to send. Framing fields (`Content-Length`, `Transfer-Encoding`) in it are
   * ignored: the client writes its own from `body` and `contentLength`.
   */
  readonly headers: readonly string[];
  /**
   * The content: `null` for none, a `Buffer` for a body already read in full (sent with its
   * length in one write), or a stream (with `contentLength` when the client declared one,
   * chunked otherwise).
   */
  readonly body: Readable | Buffer | null;
  /** Content-Length of a streamed `body`, when the client declared one. */
  readonly contentLength?: number | undefined;
}

/** An error of the client itself, with a code {@link upstreamError} maps to a status. */
export class H1Error extends Error {
  override readonly name = 'H1Error';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BAD_TARGET = /[\0-\x20\x7f]/;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A header list whose first `parsedValues` entries (names and values, from index 0) were taken
 * unchanged from a request head that an HTTP parser accepted (Gatehouse's fast lane or Node's
 * llhttp, strict mode): their values hold no control character but HTAB and nothing above
 * U+00FF, so {@link requestHead} does not scan them again (a bearer token is most of a head).
 * Their names are still checked.
 */
export type ParsedHeaderList = readonly string[] & { readonly parsedValues?: number };

/** Marks the first `n` entries of `headers` as taken unchanged from a parsed request head. */
export function markParsed(headers: string[], n: number): void {
  (headers as string[] & { parsedValues?: number }).parsedValues = n;
}

/** True for a stream body sent with chunked transfer coding (no declared length). */
export function isChunked(req: H1Request): boolean {
  return req.body !== null && !Buffer.isBuffer(req.body) && req.contentLength === undefined;
}

/**
 * True for `Content-Length` and `Transfer-Encoding` in any case. The message framing is the
 * client's alone (RFC 9112 §6.1, §6.2): a length taken from the header list could disagree with
 * the bytes written — a field the client named in `Connection` is dropped as hop-by-hop, so the
 * body would follow a head without any framing and the upstream would read it as a second
 * request (request smuggling, RFC 9112 §11.2).
 */
function isFraming(name: string): boolean {
  const n = name.length;
  if (n !== 14 && n !== 17) return false;
  const lower = name.toLowerCase();
  return lower === 'content-length' || lower === 'transfer-encoding';
}

/** Builds the request head; throws on a name or value that would break HTTP/1.1 framing. */
export function requestHead(req: H1Request, chunked: boolean): string {
  if (BAD_TARGET.test(req.path) || !TOKEN.test(req.method))
    throw new H1Error('ERR_INVALID_REQUEST_TARGET', 'invalid upstream request target');
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const h = req.headers;
  const parsed = (h as ParsedHeaderList).parsedValues ?? 0;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    const value = h[i + 1] as string;
    // Tested apart, not as one `name: value` string: joining would copy every long value (a token).
    if (!TOKEN.test(name) || (i >= parsed && FIELD_CTL.test(value)))
      throw new H1Error('ERR_INVALID_HEADER', `invalid upstream request header ${JSON.stringify(name)}`);
    if (isFraming(name)) continue;
    head += `${name}: ${value}\r\n`;
  }
  const body = req.body;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  else if (body === null) {
    if (BODY_METHODS.has(req.method)) head += 'content-length: 0\r\n';
  } else {
    const length = Buffer.isBuffer(body) ? body.length : req.contentLength;
    head += `content-length: ${length}\r\n`;
  }
  return `${head}\r\n`;
}

const unsent = new WeakSet<Error>();

/** Marks `err` as raised before any byte of its request was written (the connection never opened). */
export function markUnsent(err: Error): Error {
  unsent.add(err);
  return err;
}

/** True when the request failing with `err` was not written at all: safe to send elsewhere. */
export function wasUnsent(err: unknown): boolean {
  return err instanceof Error && unsent.has(err);
}
