/**
 * fast-check generators of HTTP/1.1 responses as an upstream sends them, for differential tests
 * of the upstream response parser: valid responses (Content-Length, chunked with extensions and
 * trailers, close-delimited, 1xx before the final head), responses with odd parts (status lines,
 * conflicting or malformed framing, chunk lines, trailers, non-ASCII, bytes after the message)
 * and valid responses mutated byte by byte. Latin1 strings throughout: one character per byte.
 */
import fc from 'fast-check';
import {
  HOSTILE_LINES,
  anyCase,
  eolArb,
  fieldLineArb,
  hostileValueArb,
  mutate,
  owsArb,
  pick,
  plainFieldLineArb,
  plainValueArb,
} from './http-heads.js';

/** Where a generated response came from (reported in the statistics). */
export type ResponseKind = 'valid' | 'odd' | 'mutated';

/** Bytes an upstream sends for one request, then closes. */
export interface GeneratedResponse {
  readonly kind: ResponseKind;
  /** The request was HEAD. */
  readonly head: boolean;
  readonly bytes: Buffer;
}

const REASONS = ['OK', '', 'Not Found', 'No Content', 'I am a\tteapot', 'D\xe9j\xe0 vu', 'Caf\xc3\xa9'];
const ODD_REASONS = ['a\rb', 'a\0b', 'x\x7f', 'a\nb', '\x01', ' leading', 'trailing '];
const STATUSES = [200, 201, 204, 206, 301, 302, 304, 400, 404, 410, 500, 503];
const ODD_STATUS_TEXT = [
  '20',
  '2000',
  '099',
  '000',
  '600',
  '999',
  '20x',
  'abc',
  ' 200',
  '2 00',
  '-200',
  '+200',
  '0200',
];
const ODD_VERSIONS = [
  'HTTP/1.2',
  'HTTP/2',
  'HTTP/2.0',
  'http/1.1',
  'HTTP/1.1 ',
  'HTTP/0.9',
  'HTTP/1.1\t',
  'ICY',
  'HTTP/1',
  'HTTP/11',
  '',
];

/** A status line: version, status, reason (no line ending). */
const statusLineArb = fc
  .record({
    version: pick(['HTTP/1.1', 'HTTP/1.0', ...ODD_VERSIONS], 2, 10),
    status: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...STATUSES).map(String) },
      { weight: 3, arbitrary: fc.integer({ min: 200, max: 599 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_STATUS_TEXT) },
    ),
    sep: pick([' ', '  ', '\t', ''], 1, 12),
    reason: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...REASONS).map((r) => (r ? ` ${r}` : '')) },
      { weight: 1, arbitrary: fc.constantFrom(' ', ...ODD_REASONS.map((r) => ` ${r}`), 'OK') },
    ),
  })
  .map(({ version, status, sep, reason }) => `${version}${sep}${status}${reason}`);

/** 1xx responses before the final one. */
const INFORMATIONAL = [
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n',
  'HTTP/1.1 102 Processing\r\n\r\n',
  'HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.1 199\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nConnection: close\r\n\r\n',
  'HTTP/1.1 102 Processing\r\nProxy-Connection: close\r\n\r\n',
  'HTTP/1.0 100 Continue\r\n\r\n',
  'HTTP/1.0 100 Continue\r\nConnection: keep-alive\r\n\r\n',
];

/** The framing fields of the final head; `n` is the body length. */
type Framing =
  | { kind: 'none' }
  | { kind: 'cl'; delta: number; form: string }
  | { kind: 'cl2'; second: number }
  | { kind: 'te'; values: string[] }
  | { kind: 'te+cl'; value: string; clFirst: boolean };

const CL_FORMS = [
  'n',
  'n',
  'n',
  '0n',
  'n, n',
  'n,n',
  'n , n',
  '+n',
  '-n',
  'n n',
  '0xn',
  'n.0',
  'n;',
  '"n"',
  '',
];
const TE_VALUES = [
  'chunked',
  'Chunked',
  'gzip, chunked',
  'chunked, gzip',
  'gzip',
  'identity',
  'xchunked',
  'chunked;q=1',
  'chunked,',
  ',chunked',
  'chunked, chunked',
  'chunked , ',
  '"chunked"',
  'gzip,chunked',
  'gzip, \tchunked',
  'chunked\t',
  '',
];

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Framing>({ kind: 'none' }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('cl' as const),
      delta: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
      ),
      form: pick(CL_FORMS, 3, 4),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cl2' as const), second: fc.integer({ min: -1, max: 1 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('te' as const),
      values: fc.oneof(
        { weight: 6, arbitrary: pick(TE_VALUES, 1, 3).map((v) => [v]) },
        { weight: 1, arbitrary: fc.array(fc.constantFrom(...TE_VALUES), { minLength: 2, maxLength: 2 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('te+cl' as const),
      value: fc.constantFrom(...TE_VALUES),
      clFirst: fc.boolean(),
    }),
  },
);

function framingLines(f: Framing, n: number, nameCase: number, ows: readonly [string, string]): string[] {
  const cl = `${anyCaseOf('Content-Length', nameCase)}`;
  const te = `${anyCaseOf('Transfer-Encoding', nameCase)}`;
  return framingFields(f, n, cl, te).map(([name, value]) => `${name}:${ows[0] || ' '}${value}${ows[1]}`);
}

function framingFields(f: Framing, n: number, cl: string, te: string): Array<[string, string]> {
  switch (f.kind) {
    case 'none':
      return [];
    case 'cl':
      return [[cl, f.form.replace(/n/g, String(Math.max(0, n + f.delta)))]];
    case 'cl2':
      return [
        [cl, String(n)],
        [cl, String(Math.max(0, n + f.second))],
      ];
    case 'te':
      return f.values.map((v) => [te, v]);
    case 'te+cl':
      return f.clFirst
        ? [
            [cl, String(n)],
            [te, f.value],
          ]
        : [
            [te, f.value],
            [cl, String(n)],
          ];
  }
}

function anyCaseOf(name: string, bits: number): string {
  return bits % 4 === 0 ? name.toLowerCase() : bits % 4 === 1 ? name.toUpperCase() : name;
}

/** How the body bytes go on the wire after the head. */
interface BodyEncoding {
  readonly chunked: boolean;
  readonly sizes: number[];
  /** Chunk-size line suffix: none, extensions (RFC 9112 §7.1.1), or malformed ones. */
  readonly ext: string;
  readonly sizeForm: 'lower' | 'upper' | 'zeros' | 'space' | 'tab';
  /** What follows chunk data (CRLF, or a malformed ending). */
  readonly dataEnd: string;
  readonly lastChunk: string;
  readonly trailers: string[];
}

const EXTENSIONS = [
  '',
  '',
  ';a',
  ';a=b',
  ';a="b c"',
  ';name=value;other',
  ' ;a=b',
  ';a = b',
  '\t;a=b',
  ';a="\\"q\\""',
  ';a b',
  ';=b',
  ';a=',
  ';a="unterminated',
  ';a=\x80',
  ';a=b c',
  ';a="\x7f"',
  ';;a',
  ';a,b',
  ' ',
  ';a=\t',
  ';a="b"c',
];
const TRAILERS = [
  'X-Sum: 42',
  'X-Other: a b',
  'Server-Timing: total;dur=1',
  'Content-Length: 5',
  ' folded',
  'NoColon',
  'X : y',
  'X: a\rb',
  'X: \x80',
  ': v',
  'X(y): z',
];

const bodyEncodingArb: fc.Arbitrary<BodyEncoding> = fc.record({
  chunked: fc.boolean(),
  sizes: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 4 }),
  ext: pick(EXTENSIONS, 6, 3),
  sizeForm: pick(['lower', 'upper', 'zeros', 'space', 'tab'] as const, 3, 6),
  dataEnd: pick(['\r\n', '\n', '', 'X\r\n', '\r'], 1, 20),
  lastChunk: pick(['0', '00', '0;a=b', '000000000000000', '0 ', '0;a b'], 2, 6),
  trailers: fc.array(pick(TRAILERS, 3, 4), { maxLength: 2 }),
});

function hex(n: number, form: BodyEncoding['sizeForm']): string {
  const h = n.toString(16);
  return form === 'upper'
    ? h.toUpperCase()
    : form === 'zeros'
      ? `00${h}`
      : form === 'space'
        ? `${h} `
        : form === 'tab'
          ? `${h}\t`
          : h;
}

function encodeBody(body: string, e: BodyEncoding): string {
  if (!e.chunked) return body;
  let out = '';
  let off = 0;
  for (let i = 0; off < body.length; i++) {
    const size = Math.min(e.sizes[i % e.sizes.length] ?? 1, body.length - off);
    out += `${hex(size, e.sizeForm)}${e.ext}\r\n${body.slice(off, off + size)}${e.dataEnd}`;
    off += size;
  }
  return `${out}${e.lastChunk}\r\n${e.trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
}

/** Body bytes: text, or bytes that look like HTTP (smuggling-shaped), or anything. */
const bodyArb = fc.oneof(
  { weight: 4, arbitrary: plainValueArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', '0\r\n\r\n', '\r\n\r\n'),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')) },
);

/** Bytes after the message: none, a second response, stray bytes, a lone CRLF. */
const afterArb = pick(['', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'junk', '\r\n'], 1, 8);

const CONNECTION = [
  'close',
  'keep-alive',
  'Keep-Alive',
  'close, keep-alive',
  'keep-alive, close',
  'upgrade',
  'te, close',
  'clo se',
  'close\t,x',
  'keep-alive\t',
  'x,\tkeep-alive',
  'keep-alive ,x',
  'keep-alive\t,x',
  '\tkeep-alive',
];

/** A field line of a response head, with the odd and hostile ones when `odd`. */
function fieldsArb(odd: boolean): fc.Arbitrary<string[]> {
  const line = odd
    ? fc.oneof(
        { weight: 12, arbitrary: fieldLineArb },
        { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_LINES) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(anyCase(fc.constant('X-Odd')), owsArb, hostileValueArb)
            .map(([n, o, v]) => `${n}:${o}${v}`),
        },
      )
    : plainFieldLineArb;
  return fc.array(line, { maxLength: odd ? 8 : 6 });
}

interface ResponseParts {
  informational: string[];
  statusLine: string;
  eol: string;
  fields: string[];
  connection: string | null;
  framing: Framing;
  framingAt: number;
  nameCase: number;
  /** OWS before and after the framing fields' values. */
  framingOws: [string, string];
  body: string;
  encoding: BodyEncoding;
  after: string;
  /** A field value around the 64 KiB head limit. */
  big: number | null;
}

function responsePartsArb(odd: boolean): fc.Arbitrary<ResponseParts> {
  return fc.record({
    informational: fc.array(odd ? pick(INFORMATIONAL, 3, 3) : fc.constantFrom(...INFORMATIONAL.slice(0, 3)), {
      maxLength: 2,
    }),
    statusLine: odd
      ? statusLineArb
      : fc
          .tuple(
            fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
            fc.constantFrom(...STATUSES),
            fc.constantFrom(...REASONS),
          )
          .map(([v, s, r]) => `${v} ${s}${r ? ` ${r}` : ''}`),
    eol: odd ? eolArb : fc.constant('\r\n'),
    fields: fieldsArb(odd),
    connection: fc.option(odd ? fc.constantFrom(...CONNECTION) : fc.constantFrom('close', 'keep-alive'), {
      freq: 3,
    }),
    framing: odd
      ? framingArb
      : fc.oneof(
          { weight: 1, arbitrary: fc.constant<Framing>({ kind: 'none' }) },
          { weight: 3, arbitrary: fc.constant<Framing>({ kind: 'cl', delta: 0, form: 'n' }) },
          { weight: 3, arbitrary: fc.constant<Framing>({ kind: 'te', values: ['chunked'] }) },
        ),
    framingAt: fc.nat(),
    nameCase: fc.nat(),
    framingOws: odd ? fc.tuple(owsArb, owsArb) : fc.constant<[string, string]>([' ', '']),
    body: bodyArb,
    encoding: odd
      ? bodyEncodingArb
      : bodyEncodingArb.map((e) => ({
          ...e,
          ext: /^(?:;[a-z]+(?:=(?:[a-z]+|"[a-z ]*"))?)*$/.test(e.ext) ? e.ext : '',
          sizeForm: e.sizeForm === 'upper' || e.sizeForm === 'zeros' ? e.sizeForm : ('lower' as const),
          dataEnd: '\r\n',
          lastChunk: '0',
          trailers: e.trailers.filter((t) => /^X-[A-Za-z]+: [a-z0-9 ]+$/.test(t)),
        })),
    after: odd ? afterArb : fc.constant(''),
    big: odd
      ? fc.oneof(
          { weight: 150, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.integer({ min: 64 * 1024 - 80, max: 64 * 1024 + 16 }) },
        )
      : fc.constant(null),
  });
}

function assemble(p: ResponseParts): string {
  const n = p.body.length;
  const fields = p.fields.filter((l) => !/^(?:content-length|transfer-encoding|connection)\s*:/i.test(l));
  const framing = framingLines(p.framing, n, p.nameCase, p.framingOws);
  fields.splice(p.framingAt % (fields.length + 1), 0, ...framing);
  if (p.connection !== null) fields.push(`Connection: ${p.connection}`);
  if (p.big !== null) fields.push(`X-Big: ${'b'.repeat(p.big)}`);
  const chunkedFraming = p.framing.kind === 'te' && /chunked/i.test(p.framing.values.at(-1) ?? '');
  const encoding =
    p.framing.kind === 'te' || p.framing.kind === 'te+cl' ? p.encoding : { ...p.encoding, chunked: false };
  const body = encodeBody(p.body, chunkedFraming ? { ...encoding, chunked: true } : encoding);
  return (
    p.informational.join('') +
    `${p.statusLine}${p.eol}` +
    fields.map((l) => `${l}${p.eol === '\r\n' ? '\r\n' : p.eol}`).join('') +
    `\r\n${body}${p.after}`
  );
}

/** Responses: valid, odd and mutated; 1 in 8 answers a HEAD request. */
export const responseArb: fc.Arbitrary<GeneratedResponse> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: responsePartsArb(false).map((p) => ['valid', assemble(p)] as const) },
      { weight: 4, arbitrary: responsePartsArb(true).map((p) => ['odd', assemble(p)] as const) },
      {
        weight: 3,
        arbitrary: mutate(responsePartsArb(false).map(assemble)).map((s) => ['mutated', s] as const),
      },
    ),
    fc.nat({ max: 7 }),
  )
  .map(([[kind, text], h]) => ({ kind, head: h === 0, bytes: Buffer.from(text, 'latin1') }));
