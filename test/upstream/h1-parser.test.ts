import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ResponseParser, ResponseParseError, MAX_HEAD_BYTES } from '../../src/upstream/h1/parser.js';

/** Everything the parser reported for one response. */
interface Parsed {
  informational: number[];
  status: number | undefined;
  statusText: string | undefined;
  raw: string[] | undefined;
  body: Buffer;
  /** `undefined` until onEnd; then whether the connection may be reused. */
  reusable: boolean | undefined;
  /** Event names in order, to check sequencing. */
  order: string[];
}

/** Feeds `pieces` to a fresh parser (armed for `head` requests when asked), then EOF if asked. */
function parse(pieces: Array<string | Buffer>, opts: { head?: boolean; eof?: boolean } = {}): Parsed {
  const out: Parsed = {
    informational: [],
    status: undefined,
    statusText: undefined,
    raw: undefined,
    body: Buffer.alloc(0),
    reusable: undefined,
    order: [],
  };
  const bodies: Buffer[] = [];
  const p = new ResponseParser({
    onHead(status, statusText, raw) {
      out.order.push('head');
      out.status = status;
      out.statusText = statusText;
      out.raw = raw;
    },
    onInformational(status) {
      out.order.push(`info:${status}`);
      out.informational.push(status);
    },
    onBody(chunk) {
      // Copy: the parser hands out views of the caller's buffers.
      bodies.push(Buffer.from(chunk));
    },
    onEnd(reusable) {
      out.order.push('end');
      out.reusable = reusable;
    },
  });
  p.reset(opts.head ?? false);
  for (const piece of pieces) p.execute(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
  if (opts.eof) p.eof();
  out.body = Buffer.concat(bodies);
  return out;
}

function isParseError(code: string | string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ResponseParseError, `expected a ResponseParseError, got ${String(e)}`);
    if (Array.isArray(code)) assert.ok(code.includes(e.code), `${e.code} is not one of ${code.join(', ')}`);
    else assert.equal(e.code, code);
    return true;
  };
}

interface ValidCase {
  name: string;
  wire: string;
  head?: boolean;
  eof?: boolean;
  status: number;
  statusText?: string;
  raw?: string[];
  body: string;
  reusable: boolean;
  informational?: number[];
}

const VALID: ValidCase[] = [
  {
    name: 'Content-Length body',
    wire: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    status: 200,
    statusText: 'OK',
    raw: ['Content-Type', 'text/plain', 'Content-Length', '5'],
    body: 'hello',
    reusable: true,
  },
  {
    name: 'Content-Length: 0',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    status: 200,
    body: '',
    reusable: true,
  },
  {
    name: 'chunked body with chunk extensions and trailers',
    wire:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
      '5;name=value\r\nhello\r\n' +
      '1;ext\r\n \r\n' +
      'A\r\n0123456789\r\n' +
      '0;last\r\nX-Sum: 42\r\nX-Other: a b\r\n\r\n',
    status: 200,
    body: 'hello 0123456789',
    reusable: true,
  },
  {
    name: 'chunked body with upper-case hex and leading zeros',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00B\r\nhello world\r\n0\r\n\r\n',
    status: 200,
    body: 'hello world',
    reusable: true,
  },
  {
    name: 'close-delimited body (no Content-Length, no Transfer-Encoding) completes at EOF',
    wire: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
    eof: true,
    status: 200,
    body: 'until the end',
    reusable: false,
  },
  {
    name: 'Transfer-Encoding whose final coding is not chunked is read until close',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzzz',
    eof: true,
    status: 200,
    body: 'zzzz',
    reusable: false,
  },
  {
    name: 'HTTP/1.0 response is not reusable',
    wire: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive is reusable',
    wire: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: true,
  },
  {
    name: 'HTTP/1.0 keep-alive without a length is still read until close',
    wire: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nrest',
    eof: true,
    status: 200,
    body: 'rest',
    reusable: false,
  },
  {
    name: 'Connection: close makes an HTTP/1.1 response not reusable',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: 'Connection: close among other tokens, any case',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: Upgrade, CLOSE\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: '204 with Content-Length has no body',
    wire: 'HTTP/1.1 204\r\nContent-Length: 10\r\n\r\n',
    status: 204,
    body: '',
    reusable: true,
  },
  {
    name: '304 with Content-Length has no body',
    wire: 'HTTP/1.1 304\r\nContent-Length: 1234\r\nETag: "x"\r\n\r\n',
    status: 304,
    body: '',
    reusable: true,
  },
  {
    name: 'response to HEAD with Content-Length has no body',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    head: true,
    status: 200,
    body: '',
    reusable: true,
  },
  {
    name: 'response to HEAD with Transfer-Encoding: chunked has no body',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    head: true,
    status: 200,
    body: '',
    reusable: true,
  },
  {
    name: '100 Continue and 103 Early Hints before the final response',
    wire:
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 103\r\nLink: </style.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew',
    status: 201,
    statusText: 'Created',
    raw: ['Content-Length', '3'],
    informational: [100, 103],
    body: 'new',
    reusable: true,
  },
  {
    name: 'Content-Length with a leading HTAB and trailing SP (OWS)',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length:\t 5  \r\n\r\nhello',
    status: 200,
    raw: ['Content-Length', '5'],
    body: 'hello',
    reusable: true,
  },
  {
    name: 'chunk extensions: a name, name=token, name=quoted-string with a quoted-pair and obs-text',
    wire:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '2;a\r\nab\r\n2;a=b;c=d\r\ncd\r\n2;q="x \\"y\\"\t\xe9"\r\nef\r\n0;last=1\r\n\r\n',
    status: 200,
    body: 'abcdef',
    reusable: true,
  },
  {
    name: 'Transfer-Encoding over two fields, chunked last',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked \r\n\r\n2\r\nzz\r\n0\r\n\r\n',
    status: 200,
    body: 'zz',
    reusable: true,
  },
  {
    name: 'HTTP/1.0 with both close and keep-alive is not reusable, whatever their order',
    wire: 'HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: 'HTTP/1.0 with keep-alive followed by HTAB is not reusable (llhttp does not read that token)',
    wire: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\t\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: 'Proxy-Connection: close makes a response not reusable (llhttp reads it like Connection)',
    wire: 'HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reusable: false,
  },
  {
    name: 'an HTTP/1.0 100 Continue that keeps the connection alive, then the final response',
    wire: 'HTTP/1.0 100 Continue\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    informational: [100],
    body: 'ok',
    reusable: true,
  },
  {
    name: 'status line without reason phrase',
    wire: 'HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n',
    status: 404,
    statusText: '',
    body: '',
    reusable: true,
  },
  {
    name: 'status line with an empty reason phrase after the space',
    wire: 'HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n',
    status: 500,
    statusText: '',
    body: '',
    reusable: true,
  },
  {
    name: 'header values keep inner spaces, OWS is trimmed, empty values are kept',
    wire: 'HTTP/1.1 200 OK\r\nX-Inner: a  b\tc\r\nX-Ows: \t padded \t \r\nX-Empty:\r\nX-Blank:   \r\nContent-Length: 0\r\n\r\n',
    status: 200,
    raw: ['X-Inner', 'a  b\tc', 'X-Ows', 'padded', 'X-Empty', '', 'X-Blank', '', 'Content-Length', '0'],
    body: '',
    reusable: true,
  },
  {
    name: 'obs-text bytes (0x80-0xff) in values and reason are preserved as latin1',
    wire: 'HTTP/1.1 200 D\xe9j\xe0-vu\r\nX-Name: Fran\xe7ois \x80\xff\r\nX-Nbsp: \xa0x\xa0\r\nContent-Length: 0\r\n\r\n',
    status: 200,
    statusText: 'D\u00e9j\u00e0-vu',
    // 0xa0 is obs-text, not whitespace: it is not trimmed like OWS.
    raw: ['X-Name', 'Fran\u00e7ois \u0080\u00ff', 'X-Nbsp', '\u00a0x\u00a0', 'Content-Length', '0'],
    body: '',
    reusable: true,
  },
  {
    name: 'header names keep their case and duplicates stay separate',
    wire: 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n',
    status: 200,
    raw: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Content-Length', '0'],
    body: '',
    reusable: true,
  },
  {
    name: 'binary body bytes pass through untouched',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\r\n\0\xff\r\n',
    status: 200,
    body: '\r\n\0\xff\r\n',
    reusable: true,
  },
];

for (const c of VALID) {
  test(`parses: ${c.name}`, () => {
    const r = parse([c.wire], { head: c.head ?? false, eof: c.eof ?? false });
    assert.equal(r.status, c.status);
    if (c.statusText !== undefined) assert.equal(r.statusText, c.statusText);
    if (c.raw !== undefined) assert.deepEqual(r.raw, c.raw);
    assert.equal(r.body.toString('latin1'), c.body);
    assert.equal(r.reusable, c.reusable, 'reusable');
    assert.deepEqual(r.informational, c.informational ?? []);
    const info = (c.informational ?? []).map((s) => `info:${s}`);
    assert.deepEqual(r.order, [...info, 'head', 'end'], 'events in order, each once');
  });
}

// RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). Nearly every real upstream
// sends one with spaces in it.
const REASONS: Array<[string, number, string]> = [
  ['HTTP/1.1 404 Not Found', 404, 'Not Found'],
  ['HTTP/1.1 204 No Content', 204, 'No Content'],
  ['HTTP/1.1 304 Not Modified', 304, 'Not Modified'],
  ['HTTP/1.1 500 Internal Server Error', 500, 'Internal Server Error'],
  ['HTTP/1.1 418 I am a\tteapot ', 418, 'I am a\tteapot '],
  ['HTTP/1.1 200 D\xe9j\xe0 vu', 200, 'D\u00e9j\u00e0 vu'],
];

for (const [line, status, reason] of REASONS) {
  test(`parses a reason phrase with spaces: ${JSON.stringify(line)}`, () => {
    const r = parse([`${line}\r\nContent-Length: 0\r\n\r\n`]);
    assert.equal(r.status, status);
    assert.equal(r.statusText, reason);
    assert.equal(r.reusable, true);
  });
}

test('parses an informational response whose reason phrase has spaces (103 Early Hints)', () => {
  const r = parse([
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
  ]);
  assert.deepEqual(r.order, ['info:103', 'head', 'end']);
  assert.equal(r.status, 200);
});

test('a close-delimited body does not end before EOF', () => {
  const r = parse(['HTTP/1.1 200 OK\r\n\r\nsome', ' more']);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'some more');
  assert.equal(r.reusable, undefined, 'no onEnd until the connection closes');
});

test('a Content-Length body ends exactly at its length, without waiting for EOF', () => {
  const r = parse(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab', 'c']);
  assert.equal(r.body.toString(), 'abc');
  assert.equal(r.reusable, true);
});

test('the parser is reusable across responses on one connection (reset per request)', () => {
  const seen: number[] = [];
  const bodies: string[] = [];
  const p = new ResponseParser({
    onHead: (s) => seen.push(s),
    onInformational: () => {},
    onBody: (b) => bodies.push(b.toString()),
    onEnd: () => {},
  });
  p.reset(false);
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'));
  assert.equal(p.active, false);
  p.reset(true);
  assert.equal(p.active, true);
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'));
  p.reset(false);
  p.execute(Buffer.from('HTTP/1.1 404\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n'));
  assert.deepEqual(seen, [200, 200, 404]);
  assert.deepEqual(bodies, ['a', 'b']);
});

interface RejectCase {
  name: string;
  wire: string | Buffer;
  /** The expected code, or the codes that are equally right for it. */
  code: string | string[];
  head?: boolean;
  eof?: boolean;
}

const many = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join('');

const REJECTED: RejectCase[] = [
  {
    name: 'Content-Length together with Transfer-Encoding',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    code: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  },
  {
    name: 'Transfer-Encoding together with Content-Length (other order)',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello',
    code: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  },
  {
    name: 'Content-Length: 5, 6',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'two differing Content-Length lines',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    code: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  },
  // Found by the differential test against llhttp (h1-parser.differential.test.ts): each of
  // these was accepted here and refused, or framed otherwise, by llhttp.
  {
    name: 'Content-Length: 5, 5 (a list of identical values)',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'two identical Content-Length lines',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    code: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  },
  {
    name: 'Content-Length followed by HTAB',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 0\t\r\n\r\n',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'Transfer-Encoding: chunked followed by HTAB (llhttp reads the body until close)',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  {
    name: 'Transfer-Encoding: chunked, then an empty Transfer-Encoding (llhttp still reads chunked)',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n0\r\n\r\n',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  {
    name: 'chunked applied twice',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  {
    name: 'chunked in one field, another coding in the next',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  {
    name: 'chunked before another coding',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzz',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  {
    name: 'a transfer coding with parameters',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;q=1, chunked\r\n\r\n0\r\n\r\n',
    code: 'HPE_INVALID_TRANSFER_ENCODING',
  },
  ...[
    '1 ',
    '1\t',
    '1 ;a=b',
    '1; a=b',
    '1;a = b',
    '1;a= b',
    '1;',
    '1;a b',
    '1;a=b c',
    '1;a="b',
    '1;a="\x7f"',
    '1;a=\x80',
  ].map((line): RejectCase => ({
    name: `chunk-size line ${JSON.stringify(line)}`,
    wire: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${line}\r\n!\r\n0\r\n\r\n`,
    code: 'HPE_CHUNK_SIZE',
  })),
  ...[
    '{-Sum: 42',
    'X-Sum : 42',
    ' folded',
    'NoColon',
    ': v',
    'Content-Length: 5',
    'transfer-encoding: chunked',
  ].map((line): RejectCase => ({
    name: `trailer line ${JSON.stringify(line)}`,
    wire: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n!\r\n0\r\n${line}\r\n\r\n`,
    code: 'HPE_INVALID_TRAILER',
  })),
  {
    name: 'an informational response with Connection: close',
    wire: 'HTTP/1.1 103 Early Hints\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_CLOSED_CONNECTION',
  },
  {
    name: 'an informational response with Proxy-Connection: close',
    wire: 'HTTP/1.1 100 Continue\r\nProxy-Connection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_CLOSED_CONNECTION',
  },
  {
    name: 'an HTTP/1.0 informational response (no keep-alive)',
    wire: 'HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_CLOSED_CONNECTION',
  },
  {
    name: 'non-numeric Content-Length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'signed Content-Length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'negative Content-Length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'hex Content-Length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'empty Content-Length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n',
    code: 'HPE_INVALID_CONTENT_LENGTH',
  },
  {
    name: 'obs-fold continuation line',
    wire: 'HTTP/1.1 200 OK\r\nX-Folded: first\r\n second\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'obs-fold with a tab',
    wire: 'HTTP/1.1 200 OK\r\nX-Folded: first\r\n\tsecond\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'whitespace before the colon',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'tab before the colon',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length\t: 5\r\n\r\nhello',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'empty header name',
    wire: 'HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'header line without a colon',
    wire: 'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'non-token character in a header name',
    wire: 'HTTP/1.1 200 OK\r\nX(y): v\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'bare LF ending the status line',
    wire: 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n',
    code: ['HPE_INVALID_STATUS', 'HPE_STRICT'],
  },
  {
    name: 'bare LF ending a header line',
    wire: 'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n',
    code: ['HPE_STRICT', 'HPE_INVALID_HEADER_TOKEN'],
  },
  {
    name: 'NUL inside a header value',
    wire: 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  {
    name: 'CR inside a header value',
    wire: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n',
    code: ['HPE_STRICT', 'HPE_INVALID_HEADER_TOKEN'],
  },
  {
    name: 'LF inside a header value',
    wire: 'HTTP/1.1 200 OK\r\nX-A: a\nb\r\nContent-Length: 0\r\n\r\n',
    code: ['HPE_STRICT', 'HPE_INVALID_HEADER_TOKEN'],
  },
  {
    name: 'DEL inside a header value',
    wire: 'HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_HEADER_TOKEN',
  },
  { name: 'HTTP/2 200', wire: 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  { name: 'HTTP/1.1 20', wire: 'HTTP/1.1 20\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  { name: 'HTTP/1.1 20 OK', wire: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  {
    name: 'HTTP/1.1 2000 OK',
    wire: 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  { name: 'ICY 200 OK', wire: 'ICY 200 OK\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  {
    name: 'HTTP/1.2 200 OK',
    wire: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  {
    name: 'lower-case http/1.1',
    wire: 'http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  {
    name: 'status 099',
    wire: 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  {
    name: 'two spaces after the version',
    wire: 'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  {
    name: '101 Switching Protocols to a normal request',
    wire: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    code: 'HPE_INVALID_STATUS',
  },
  {
    name: 'invalid chunk size',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    code: 'HPE_CHUNK_SIZE',
  },
  {
    name: 'negative chunk size',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n',
    code: 'HPE_CHUNK_SIZE',
  },
  {
    name: 'empty chunk size line',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n',
    code: 'HPE_CHUNK_SIZE',
  },
  {
    name: 'chunk size with more than 12 hex digits',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000\r\nx\r\n',
    code: 'HPE_CHUNK_SIZE',
  },
  {
    name: 'missing CRLF after chunk data',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n',
    code: 'HPE_STRICT',
  },
  {
    name: 'bare LF after chunk data',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n',
    code: 'HPE_STRICT',
  },
  {
    name: `head larger than ${MAX_HEAD_BYTES} bytes (in one piece)`,
    wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\nContent-Length: 0\r\n\r\n`,
    code: 'HPE_HEADER_OVERFLOW',
  },
  {
    name: `head larger than ${MAX_HEAD_BYTES} bytes without an end yet`,
    wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`,
    code: 'HPE_HEADER_OVERFLOW',
  },
  {
    name: 'more than 256 header fields',
    wire: `HTTP/1.1 200 OK\r\n${many(257)}\r\n`,
    code: 'HPE_HEADER_OVERFLOW',
  },
  {
    name: 'data after the end of a Content-Length response',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n',
    code: 'HPE_INVALID_CONSTANT',
  },
  {
    name: 'data after the end of a chunked response',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nextra',
    code: 'HPE_INVALID_CONSTANT',
  },
  {
    name: 'a body on a 204',
    wire: 'HTTP/1.1 204\r\n\r\nsurprise',
    code: 'HPE_INVALID_CONSTANT',
  },
  {
    name: 'EOF mid-body',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf',
    eof: true,
    code: 'UND_ERR_SOCKET',
  },
  {
    name: 'EOF mid-chunk',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
    eof: true,
    code: 'UND_ERR_SOCKET',
  },
  {
    name: 'EOF mid-head',
    wire: 'HTTP/1.1 200 OK\r\nContent-Le',
    eof: true,
    code: 'UND_ERR_SOCKET',
  },
];

for (const c of REJECTED) {
  test(`rejects: ${c.name} → ${[c.code].flat().join(' or ')}`, () => {
    assert.throws(
      () => parse([c.wire], { head: c.head ?? false, eof: c.eof ?? false }),
      isParseError(c.code),
    );
  });
}

test('exactly 256 header fields are accepted', () => {
  const r = parse([`HTTP/1.1 200 OK\r\n${many(255)}Content-Length: 0\r\n\r\n`]);
  assert.equal(r.status, 200);
  assert.equal(r.raw?.length, 512);
});

test('an oversized head is refused while it streams in, not after buffering it all', () => {
  const p = new ResponseParser({ onHead() {}, onInformational() {}, onBody() {}, onEnd() {} });
  p.reset(false);
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
  const piece = Buffer.from(`X-Pad: ${'p'.repeat(1000)}\r\n`);
  let fed = 0;
  assert.throws(() => {
    for (;;) {
      p.execute(piece);
      fed += piece.length;
      assert.ok(fed < 2 * MAX_HEAD_BYTES, 'kept buffering far past the limit');
    }
  }, isParseError('HPE_HEADER_OVERFLOW'));
  assert.ok(fed <= MAX_HEAD_BYTES + piece.length, 'fed <= MAX_HEAD_BYTES + piece.length');
});

test('CL + TE is refused before any body byte is reported', () => {
  let bodies = 0;
  let heads = 0;
  const p = new ResponseParser({
    onHead: () => heads++,
    onInformational() {},
    onBody: () => bodies++,
    onEnd() {},
  });
  p.reset(false);
  assert.throws(
    () =>
      p.execute(
        Buffer.from(
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
        ),
      ),
    isParseError('HPE_UNEXPECTED_CONTENT_LENGTH'),
  );
  assert.equal(heads, 0);
  assert.equal(bodies, 0);
});

test('a response with only bare LF line endings is rejected, not buffered until a timeout or EOF', () => {
  // An upstream that answers `HTTP/1.1 200 OK\n…\n\n` on a kept-open connection: the strict
  // parser must refuse it as soon as it sees the status line, like a CR-less line anywhere else.
  assert.throws(
    () => parse(['HTTP/1.1 200 OK\nContent-Length: 2\n\nok']),
    (e: unknown) => e instanceof ResponseParseError && e.code.startsWith('HPE_'),
  );
});

// ---------------------------------------------------------------------------------------------
// Property: splitting the bytes anywhere yields the same response.

const tokenChar = fc.constantFrom(
  ..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
);
const headerName = fc
  .string({ unit: tokenChar, minLength: 1, maxLength: 20 })
  .filter((n) => !['content-length', 'transfer-encoding', 'connection'].includes(n.toLowerCase()));
/** field-vchar incl. obs-text, with inner SP/HTAB; no leading/trailing whitespace. */
const vchar = fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x7f);
const headerValue = fc
  .array(fc.oneof({ weight: 8, arbitrary: vchar }, { weight: 1, arbitrary: fc.constantFrom(0x20, 0x09) }), {
    maxLength: 40,
  })
  .map((codes) => String.fromCharCode(...codes).replace(/^[ \t]+|[ \t]+$/g, ''));
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t ');

const responseArb = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason: fc.constantFrom('', 'OK', 'Gone', 'R\xe9ason'),
  headers: fc.array(fc.tuple(headerName, headerValue, ows, ows), { maxLength: 12 }),
  body: fc.uint8Array({ maxLength: 600 }),
  chunked: fc.boolean(),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
  extensions: fc.boolean(),
  trailers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
  continue100: fc.boolean(),
});

type GeneratedResponse = typeof responseArb extends fc.Arbitrary<infer T> ? T : never;

function encode(r: GeneratedResponse): { wire: Buffer; raw: string[] } {
  let head = '';
  if (r.continue100) head += 'HTTP/1.1 100 Continue\r\n\r\n';
  head += `HTTP/1.1 ${r.status}${r.reason ? ` ${r.reason}` : ''}\r\n`;
  const raw: string[] = [];
  for (const [name, value, before, after] of r.headers) {
    head += `${name}:${before}${value}${after}\r\n`;
    raw.push(name, value);
  }
  const body = Buffer.from(r.body);
  const parts: Buffer[] = [];
  if (r.chunked) {
    head += 'Transfer-Encoding: chunked\r\n\r\n';
    raw.push('Transfer-Encoding', 'chunked');
    let off = 0;
    let i = 0;
    while (off < body.length) {
      const size = Math.min(r.chunkSizes[i++ % r.chunkSizes.length] as number, body.length - off);
      const ext = r.extensions ? `;i=${i};q="x y"` : '';
      parts.push(
        Buffer.from(`${size.toString(16)}${ext}\r\n`),
        body.subarray(off, off + size),
        Buffer.from('\r\n'),
      );
      off += size;
    }
    let tail = '0\r\n';
    for (const [name, value] of r.trailers) tail += `${name}: ${value}\r\n`;
    parts.push(Buffer.from(`${tail}\r\n`, 'latin1'));
  } else {
    head += `Content-Length: ${body.length}\r\n\r\n`;
    raw.push('Content-Length', String(body.length));
    parts.push(body);
  }
  return { wire: Buffer.concat([Buffer.from(head, 'latin1'), ...parts]), raw };
}

function splitAt(wire: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(wire.subarray(prev, p));
    prev = p;
  }
  out.push(wire.subarray(prev));
  return out;
}

test('property: any split of a valid response parses like the whole (including 1 byte at a time)', () => {
  fc.assert(
    fc.property(responseArb, fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (r, cuts, byteByByte) => {
      const { wire, raw } = encode(r);
      const whole = parse([wire]);
      // Against the model…
      assert.equal(whole.status, r.status);
      assert.equal(whole.statusText, r.reason);
      assert.deepEqual(whole.raw, raw);
      assert.deepEqual(whole.body, Buffer.from(r.body));
      assert.equal(whole.reusable, true);
      assert.deepEqual(whole.informational, r.continue100 ? [100] : []);
      // …and split anywhere.
      const pieces = byteByByte ? [...wire].map((b) => Buffer.of(b)) : splitAt(wire, cuts);
      const split = parse(pieces);
      assert.equal(split.status, whole.status);
      assert.equal(split.statusText, whole.statusText);
      assert.deepEqual(split.raw, whole.raw);
      assert.deepEqual(split.body, whole.body);
      assert.equal(split.reusable, whole.reusable);
      assert.deepEqual(split.order, whole.order);
    }),
    { numRuns: 400 },
  );
});

test('property: a strict error is reported the same wherever the bytes are split', () => {
  const bad = [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nq\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab',
  ].map((s) => Buffer.from(s, 'latin1'));
  fc.assert(
    fc.property(fc.constantFrom(...bad), fc.array(fc.nat(), { maxLength: 20 }), (wire, cuts) => {
      let whole: unknown;
      try {
        parse([wire]);
      } catch (e) {
        whole = e;
      }
      assert.ok(whole instanceof ResponseParseError, 'whole instanceof ResponseParseError');
      assert.throws(() => parse(splitAt(wire, cuts)), isParseError(whole.code));
    }),
    { numRuns: 300 },
  );
});
