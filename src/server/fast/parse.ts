/**
 * The request heads the fast lane serves itself: `GET`/`HEAD` in origin form over HTTP/1.1,
 * printable ASCII only, exactly one Host, no body framing (no Content-Length, no
 * Transfer-Encoding: RFC 9112 §6.3 says such a request has no content), no Expect, no Upgrade,
 * no repeated field name. Anything else — every case where two parsers could disagree — is
 * handed to Node's HTTP parser untouched, which then serves the connection.
 */

import { withoutOws } from '../../http/fields.js';

/** A request head the fast lane accepted. */
export interface FastHead {
  readonly method: 'GET' | 'HEAD';
  readonly url: string;
  /** `[name, value, …]` as received (value without surrounding whitespace). */
  readonly rawHeaders: string[];
  /** Lower-cased names (no duplicates by construction). */
  readonly headers: Record<string, string>;
  /** Bytes of the head including the blank line. */
  readonly length: number;
}

/** `incomplete`: need more bytes; `handover`: not in the fast subset (or malformed). */
export type HeadResult = FastHead | 'incomplete' | 'handover';

const HEAD =
  /^(?:GET|HEAD) \/[\x21-\x7e]* HTTP\/1\.1\r\n(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*\r\n)*$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const LFLF = Buffer.from('\n\n');
const LFCRLF = Buffer.from('\n\r\n');
const REQUEST_LINE = /^(?:GET|HEAD) \/[\x21-\x7e]* HTTP\/1\.1\r\n$/;
const TARGET_PREFIX = /^(?:\/[\x21-\x7e]*)?$/;

/**
 * Names whose presence sends the request to Node's parser: framing and protocol switches;
 * `proxy-connection`, which llhttp reads like Connection (its `close` ends the connection);
 * `set-cookie`, which Node's `req.headers` holds as an array even when it occurs once.
 */
const HANDOVER = new Set([
  'content-length',
  'transfer-encoding',
  'expect',
  'upgrade',
  'http2-settings',
  'proxy-connection',
  'set-cookie',
]);
const MAX_FIELDS = 100;

/** Parses the head at the start of `buf`, if it is complete and in the subset. */
export function parseHead(buf: Buffer, maxHeaderSize: number): HeadResult {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) {
    if (buf.length > maxHeaderSize) return 'handover';
    // Bytes that can already never start a head in the subset go to Node now (its 400, or its
    // handling of a request with a body), instead of waiting for the headers timeout.
    if (buf.indexOf(LFLF) >= 0 || buf.indexOf(LFCRLF) >= 0) return 'handover';
    const eol = buf.indexOf(CRLF);
    if (eol >= 0) return REQUEST_LINE.test(buf.toString('latin1', 0, eol + 2)) ? 'incomplete' : 'handover';
    return plausibleStart(buf.toString('latin1')) ? 'incomplete' : 'handover';
  }
  if (end + 4 > maxHeaderSize) return 'handover';
  const text = buf.toString('latin1', 0, end + 2);
  if (!HEAD.test(text)) return 'handover';
  const sp = text.charCodeAt(3) === 0x20 ? 3 : 4;
  const lineEnd = text.indexOf('\r\n');
  const rawHeaders: string[] = [];
  // A plain object like Node's `req.headers`; an inherited name (`__proto__`, `constructor`)
  // reads as already present below, so such a request is handed over.
  const headers: Record<string, string> = {};
  let hosts = 0;
  let i = lineEnd;
  while (i < end) {
    const start = i + 2;
    const colon = text.indexOf(':', start);
    i = text.indexOf('\r\n', colon);
    const name = text.slice(start, colon);
    const value = withoutOws(text, colon + 1, i);
    const lower = name.toLowerCase();
    if (headers[lower] !== undefined || HANDOVER.has(lower)) return 'handover';
    if (lower === 'host') hosts++;
    headers[lower] = value;
    if (rawHeaders.push(name, value) > 2 * MAX_FIELDS) return 'handover';
  }
  if (hosts !== 1) return 'handover';
  return {
    method: sp === 3 ? 'GET' : 'HEAD',
    url: text.slice(sp + 1, lineEnd - 9),
    rawHeaders,
    headers,
    length: end + 4,
  };
}

/** Whether `s` (no CRLF yet) can still become a request line of the subset. */
function plausibleStart(s: string): boolean {
  const m = s.startsWith('GET ') ? 4 : s.startsWith('HEAD ') ? 5 : -1;
  if (m < 0) return 'GET '.startsWith(s) || 'HEAD '.startsWith(s);
  const sp = s.indexOf(' ', m);
  const target = sp < 0 ? s.slice(m) : s.slice(m, sp);
  if (!TARGET_PREFIX.test(target)) return false;
  return sp < 0 || 'HTTP/1.1\r'.startsWith(s.slice(sp + 1));
}
