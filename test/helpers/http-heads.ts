/**
 * fast-check generators of HTTP/1.1 message heads for differential tests of the hand-written
 * parsers against Node's (llhttp) and undici's: valid heads, heads with odd parts (methods,
 * targets, versions, separators, line endings, framing fields, non-ASCII) and valid heads
 * mutated byte by byte (bare CR/LF, obs-fold, whitespace before a colon, duplicated lines …).
 * Everything is a latin1 string: one character per byte on the wire.
 */
import fc from 'fast-check';

/** RFC 9110 §5.6.2 tchar. */
export const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Picks from `items`: the first `ordinary` ones `odds` times as often as all the others. */
export function pick<T>(items: readonly T[], ordinary = 1, odds = 3): fc.Arbitrary<T> {
  const usual = fc.constantFrom(...items.slice(0, ordinary));
  const rest = items.slice(ordinary);
  return rest.length === 0
    ? usual
    : fc.oneof({ weight: odds, arbitrary: usual }, { weight: 1, arbitrary: fc.constantFrom(...rest) });
}

/** `s` with each letter's case chosen by a bit of `bits`. */
export function recase(s: string, bits: number): string {
  let i = 0;
  return s.replace(/[a-z]/gi, (c) => ((bits >>> (i++ % 31)) & 1 ? c.toUpperCase() : c.toLowerCase()));
}

/** `s` as written, or in another case (field names and codings are case-insensitive). */
export function anyCase(s: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(s, fc.nat()).map(([v, n]) => (n % 3 === 0 ? recase(v, n) : v));
}

/** Optional whitespace around a field value (RFC 9110 §5.6.3). */
export const owsArb = fc.constantFrom('', ' ', ' ', '', '  ', '\t', ' \t ');

const COMMON_NAMES = [
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'User-Agent',
  'Cookie',
  'Authorization',
  'X-Forwarded-For',
  'X-Request-Id',
  'Cache-Control',
  'If-None-Match',
  'Referer',
  'Origin',
  'Range',
  'Via',
  'Forwarded',
  'Content-Type',
  'Set-Cookie',
  'ETag',
  'Location',
  'Vary',
];
/** Names that frame a message or change the connection. */
export const FRAMING_NAMES = [
  'Content-Length',
  'Transfer-Encoding',
  'Connection',
  'Host',
  'Expect',
  'Upgrade',
  'HTTP2-Settings',
  'TE',
  'Trailer',
  'Keep-Alive',
  'Proxy-Connection',
];
const NEAR_MISS_NAMES = [
  'Content-Length2',
  'Content_Length',
  'Content-Lengt',
  'XContent-Length',
  'Transfer-Encodings',
  'Transfer_Encoding',
  'Hostname',
  'Host2',
  'Connectio',
  'Expect-CT',
  'Upgrade-Insecure-Requests',
];
/** Names that are members of Object.prototype. */
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 16 });

/** A field name a well-behaved peer sends, never a framing one. */
export const plainNameArb = anyCase(
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...COMMON_NAMES) }, { weight: 2, arbitrary: tokenArb }),
);

/** Any token field name: common, framing, near misses, prototype members, random tokens. */
export const nameArb = anyCase(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...COMMON_NAMES) },
    { weight: 4, arbitrary: fc.constantFrom(...FRAMING_NAMES) },
    { weight: 1, arbitrary: fc.constantFrom(...NEAR_MISS_NAMES) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) },
    { weight: 3, arbitrary: tokenArb },
  ),
);

/** field-vchar with inner SP/HTAB (RFC 9110 §5.5), printable ASCII only. */
export const plainValueArb = fc
  .string({
    unit: fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constantFrom(' ', '\t') },
    ),
    maxLength: 24,
  })
  .map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));

/** Connection values: the close and keep-alive tokens in every spelling parsers disagree on. */
const CONNECTION_VALUES = [
  'close',
  'keep-alive',
  'Close',
  'CLOSE',
  'keep-alive, close',
  'close, keep-alive',
  'upgrade',
  'Upgrade, close',
  ',close',
  'close,',
  ', , close',
  'close;',
  '"close"',
  'closed',
  'xclose',
  'close\t,x',
  'close , x',
  'keep-alive,upgrade',
  'te, close',
  'close close',
  'clo se',
  'Keep-Alive',
  'keep-alive, keep-alive',
  'close\t',
  'x,\tclose',
  'x ,close',
  'keep-alive\t',
  'x,\tkeep-alive',
  'keep-alive\t,x',
];

/** Values that mean something to a parser, keyed by lower-case field name. */
export const SPECIAL_VALUES: Readonly<Record<string, readonly string[]>> = {
  connection: CONNECTION_VALUES,
  'proxy-connection': CONNECTION_VALUES,
  'content-length': [
    '0',
    '5',
    '2',
    '00',
    '+1',
    '-1',
    '1,1',
    '1, 1',
    '1 ,1',
    '',
    '0x1',
    '99999999999999999999',
    '1 1',
    '1\t',
    '1.0',
    '1e1',
  ],
  'transfer-encoding': [
    'chunked',
    'Chunked',
    'gzip, chunked',
    'chunked, gzip',
    'identity',
    'xchunked',
    'chunked;q=1',
    'chunked,',
    'chunked, chunked',
    'gzip',
    '"chunked"',
    'chunked , ',
    ',chunked',
    'gzip,chunked',
  ],
  host: ['example.com', 'example.com:8080', '', 'a b', '[::1]:80', 'user@host', 'x/y', 'EXAMPLE.COM.'],
  expect: ['100-continue', '100-Continue', 'foo'],
  upgrade: ['websocket', 'h2c', ''],
  te: ['trailers', 'gzip', 'chunked'],
  'keep-alive': ['timeout=5', 'timeout=5, max=100'],
};
const ALL_SPECIAL = [...new Set(Object.values(SPECIAL_VALUES).flat())];

/** Bytes no field value, target or name may hold, and non-ASCII (obs-text, UTF-8). */
export const HOSTILE = [
  '\r',
  '\n',
  '\0',
  '\x01',
  '\x0b',
  '\x0c',
  '\x1f',
  '\x7f',
  '\x80',
  '\xa0',
  '\xff',
  '\xc3\xa9',
  '\xe2\x80\xa8',
  '\r\n ',
  '\r\n\t',
];

/** A value with one hostile byte (sequence) somewhere in it. */
export const hostileValueArb = fc
  .tuple(plainValueArb, fc.constantFrom(...HOSTILE), fc.nat())
  .map(([v, h, at]) => v.slice(0, at % (v.length + 1)) + h + v.slice(at % (v.length + 1)));

/** A value for `name`: mostly plain, sometimes one that means something, rarely hostile. */
export function valueFor(name: string): fc.Arbitrary<string> {
  const key = name.toLowerCase();
  // Own keys only: generated names include `constructor` and `__proto__`.
  const special = Object.hasOwn(SPECIAL_VALUES, key) ? SPECIAL_VALUES[key] : undefined;
  return fc.oneof(
    { weight: 6, arbitrary: plainValueArb },
    { weight: special ? 6 : 1, arbitrary: fc.constantFrom(...(special ?? ALL_SPECIAL)) },
    { weight: 1, arbitrary: hostileValueArb },
  );
}

/** `name: value` with the OWS around the value (no line ending). */
export const fieldLineArb = fc
  .tuple(nameArb, owsArb, owsArb)
  .chain(([name, pre, post]) => valueFor(name).map((value) => `${name}:${pre}${value}${post}`));

/** A field line a well-behaved peer sends (plain name and value). */
export const plainFieldLineArb = fc
  .tuple(plainNameArb, owsArb, plainValueArb, owsArb)
  .map(([n, pre, v, post]) => `${n}:${pre}${v}${post}`);

/** Lines that are not `token ":" value`: obs-fold, whitespace before the colon, bad names. */
export const HOSTILE_LINES = [
  ' folded',
  '\tfolded',
  'Transfer-Encoding : chunked',
  'Transfer-Encoding\t: chunked',
  ' Transfer-Encoding: chunked',
  'Content-Length : 0',
  'Content-Length\t: 5',
  'X-A',
  ': empty',
  'X-A:: b',
  'Host : x',
  'Host\t: x',
  'X\0Y: z',
  'X\x80: y',
  'X\xc3\xa9: y',
  'X Y: z',
  '\x7f: y',
  'X(Y): z',
  'Content-Length: 0\rX: y',
  'X: y\rContent-Length: 5',
  'X: y\nContent-Length: 5',
];

/** A line ending: CRLF, or (rarely) a bare LF, a bare CR or worse. */
export const eolArb = pick(['\r\n', '\n', '\r', '\r\r\n', '\n\r', ' \r\n', '\t\r\n'], 1, 15);

/** Byte strings inserted by {@link mutate}. */
const INSERTS = [
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\t',
  ':',
  '\0',
  '\x7f',
  '\x80',
  '\xff',
  '\xc3\xa9',
  ',',
  '\x0b',
  '"',
  'chunked',
  '\r\n ',
  '\r\nContent-Length: 1',
  '\r\nHost: y',
  '\r\nTransfer-Encoding: chunked',
  '\r\nConnection: close',
  '\r\n\r\n',
];

/** One edit of a byte string; positions are taken modulo its length. */
type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; n: number }
  | { op: 'replace'; at: number; byte: number }
  | { op: 'case'; at: number }
  | { op: 'dupLine'; at: number }
  | { op: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('insert'), at: fc.nat(), text: fc.constantFrom(...INSERTS) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('delete'), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('replace'),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('case'), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupLine'), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate'), at: fc.nat() }) },
) as fc.Arbitrary<Mutation>;

function applyMutation(s: string, m: Mutation): string {
  const at = m.at % (s.length + 1);
  switch (m.op) {
    case 'insert':
      return s.slice(0, at) + m.text + s.slice(at);
    case 'delete':
      return s.slice(0, at) + s.slice(at + m.n);
    case 'replace':
      return s.slice(0, at) + String.fromCharCode(m.byte) + s.slice(at + 1);
    case 'case': {
      const c = s.charAt(at);
      const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return s.slice(0, at) + flipped + s.slice(at + 1);
    }
    case 'dupLine': {
      const start = s.lastIndexOf('\n', at - 1) + 1;
      const end = s.indexOf('\n', at);
      if (end < 0) return s;
      return s.slice(0, end + 1) + s.slice(start, end + 1) + s.slice(end + 1);
    }
    case 'truncate':
      return s.slice(0, Math.max(at, 1));
  }
}

/** `base` with 1–4 random edits. */
export function mutate(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([s, ms]) => ms.reduce(applyMutation, s));
}

// ---------------------------------------------------------------------------------------------
// Request heads.

const VALID_TARGET_CHARS = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcxyzAZ09-._~/') },
  { weight: 2, arbitrary: fc.constantFrom(...'?&=%#') },
  { weight: 1, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
);
/** origin-form with any printable ASCII (llhttp's strict URL characters, `?`, `#`). */
const originTargetArb = fc.string({ unit: VALID_TARGET_CHARS, maxLength: 24 }).map((p) => `/${p}`);
const ODD_TARGETS = [
  '*',
  'http://a/b',
  'HTTP://A/',
  'a:80',
  '',
  '//x',
  '/\x7f',
  '/a b',
  '/\x80',
  '/\t',
  '/a\0',
  '/?\xe9',
  '/\xc3\xa9',
  '/a#\x01',
  '/a\rb',
  '/a\nb',
  '\\',
  '/a?b=c d',
  '/\x0c',
];
const ODD_METHODS = [
  'POST',
  'PUT',
  'OPTIONS',
  'DELETE',
  'CONNECT',
  'PRI',
  'TRACE',
  'PATCH',
  'get',
  'Get',
  'hEAD',
  'GETX',
  'G',
  'GE',
  'HEA',
  'GET\t',
  'G\xcbT',
  'M-SEARCH',
  'SOURCE',
  'QUERY',
  '',
  'GET\0',
  '\xef\xbb\xbfGET',
];
const ODD_VERSIONS = [
  'HTTP/1.0',
  'HTTP/1.2',
  'HTTP/2.0',
  'HTTP/0.9',
  'http/1.1',
  'HTTP/1.1 ',
  'HTTP/11',
  'HTTP/1.1\t',
  'HTTP/1.10',
  'HTTP/01.1',
  'HTTP/1',
  '',
  'HTTP/9.9',
  'HTTPS/1.1',
  'HTTP/1.\xb9',
  'HTTP/1.1\0',
];
const ODD_SEPARATORS = ['  ', '\t', '', '\x0b', '\xa0', ' \t'];

/** Where a generated head came from (reported in the statistics). */
export type HeadKind = 'valid' | 'odd' | 'mutated';

/** Bytes a client sends: one request head, maybe followed by more bytes. */
export interface GeneratedRequest {
  readonly kind: HeadKind;
  readonly bytes: Buffer;
}

/** Bytes that may follow a head: nothing, a pipelined request, stray body-like bytes. */
const tailArb = pick(['', '', 'GET /next HTTP/1.1\r\nHost: next\r\n\r\n', 'abc', '0\r\n\r\n'], 2);

/** A request head of the fast lane's subset: GET/HEAD, origin form, HTTP/1.1, one Host. */
export const validRequestHeadArb: fc.Arbitrary<string> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
    target: originTargetArb,
    fields: fc.uniqueArray(plainFieldLineArb, {
      maxLength: 10,
      selector: (l) => l.slice(0, l.indexOf(':')).toLowerCase(),
    }),
    host: fc.tuple(anyCase(fc.constant('Host')), owsArb, pick(SPECIAL_VALUES.host ?? []), owsArb),
    hostAt: fc.nat(),
    connection: fc.option(
      fc.tuple(anyCase(fc.constant('Connection')), pick(SPECIAL_VALUES.connection ?? [])),
    ),
  })
  .map(({ method, target, fields, host, hostAt, connection }) => {
    const lines = fields.filter((l) => !/^(?:host|connection):/i.test(l));
    lines.splice(hostAt % (lines.length + 1), 0, `${host[0]}:${host[1]}${host[2]}${host[3]}`);
    if (connection) lines.push(`${connection[0]}: ${connection[1]}`);
    return `${method} ${target} HTTP/1.1\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
  });

/** A request head where any part may be odd or hostile. */
export const oddRequestHeadArb: fc.Arbitrary<string> = fc
  .record({
    method: pick(['GET', 'HEAD', ...ODD_METHODS], 2, 8),
    sp1: pick([' ', ...ODD_SEPARATORS], 1, 8),
    target: fc.oneof(
      { weight: 8, arbitrary: originTargetArb },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_TARGETS) },
    ),
    sp2: pick([' ', ...ODD_SEPARATORS], 1, 8),
    version: pick(['HTTP/1.1', ...ODD_VERSIONS], 1, 8),
    eol: eolArb,
    fields: fc.array(
      fc.tuple(
        fc.oneof(
          { weight: 16, arbitrary: fieldLineArb },
          { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_LINES) },
        ),
        eolArb,
      ),
      { maxLength: 10 },
    ),
    hosts: fc.array(fc.tuple(anyCase(fc.constant('Host')), owsArb, pick(SPECIAL_VALUES.host ?? [])), {
      minLength: 0,
      maxLength: 2,
    }),
    end: eolArb,
  })
  .map(
    (h) =>
      `${h.method}${h.sp1}${h.target}${h.sp2}${h.version}${h.eol}` +
      h.hosts.map(([n, ows, v]) => `${n}:${ows}${v}\r\n`).join('') +
      h.fields.map(([l, eol]) => l + eol).join('') +
      h.end,
  );

/** Request heads: valid, odd and mutated, each maybe followed by more bytes. */
export const requestArb: fc.Arbitrary<GeneratedRequest> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: validRequestHeadArb.map((s) => ['valid', s] as const) },
      { weight: 3, arbitrary: oddRequestHeadArb.map((s) => ['odd', s] as const) },
      { weight: 3, arbitrary: mutate(validRequestHeadArb).map((s) => ['mutated', s] as const) },
    ),
    tailArb,
  )
  .map(([[kind, head], tail]) => ({ kind, bytes: Buffer.from(head + tail, 'latin1') }));
