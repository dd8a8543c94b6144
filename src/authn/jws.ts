import { tokenError } from './errors.js';
import type { Tracer } from './trace.js';

/** A compact JWS split and decoded, not yet verified. */
export interface ParsedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Record<string, unknown>;
  /** ASCII `BASE64URL(header) '.' BASE64URL(payload)` (RFC 7515 §5.2 step 8). */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Largest token Gatehouse looks at; bigger ones are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const B64_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((c, i) => (B64_VALUE[c.charCodeAt(0)] = i));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * True for an unpadded, canonical base64url segment (RFC 7515 §2, RFC 4648 §5 and §3.5: the
 * unused low bits of the last character must be zero, so every byte string has one spelling).
 */
export function isCanonicalB64url(s: string): boolean {
  if (!SEGMENT.test(s)) return false;
  const rem = s.length % 4;
  if (rem === 1) return false;
  if (rem === 0) return true;
  const last = B64_VALUE[s.charCodeAt(s.length - 1)] as number;
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/** True when `token` has the shape of a compact JWS (three dot-separated segments). */
export function looksLikeJws(token: string): boolean {
  const a = token.indexOf('.');
  if (a < 0) return false;
  const b = token.indexOf('.', a + 1);
  return b > 0 && token.indexOf('.', b + 1) < 0;
}

function decodeJsonObject(seg: string): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(Buffer.from(seg, 'base64url')));
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/**
 * Decoded protected headers by their base64url text: a provider signs with a handful of
 * `alg`/`kid`/`typ` combinations, so nearly every token repeats one of a few headers. Only the
 * decoding is remembered (frozen, never a verdict); it starts over when full, so a stream of
 * distinct headers costs no more than decoding them.
 */
const headers = new Map<string, Readonly<Record<string, unknown>>>();
const MAX_HEADERS = 64;

function decodeHeader(seg: string): Readonly<Record<string, unknown>> | undefined {
  const header = decodeJsonObject(seg);
  if (header === undefined) return undefined;
  if (headers.size >= MAX_HEADERS) headers.clear();
  headers.set(seg, Object.freeze(header));
  return header;
}

/** Throws GH_TOKEN_MALFORMED (`token.too_large`) for tokens over {@link MAX_TOKEN_LENGTH}, before any parsing. */
export function checkTokenSize(token: string, trace?: Tracer): void {
  if (token.length <= MAX_TOKEN_LENGTH) return;
  trace?.('format', false, `token is ${token.length} bytes; the limit is ${MAX_TOKEN_LENGTH}`);
  throw tokenError(
    'GH_TOKEN_MALFORMED',
    'token.too_large',
    `token is ${token.length} bytes (limit ${MAX_TOKEN_LENGTH})`,
  );
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1) with no leniency: exactly three segments,
 * canonical unpadded base64url, no whitespace, header and payload UTF-8 JSON objects.
 * Throws GH_TOKEN_MALFORMED otherwise.
 */
export function parseCompactJws(token: string, trace?: Tracer): ParsedJws {
  checkTokenSize(token, trace);
  const a = token.indexOf('.');
  const b = a < 0 ? -1 : token.indexOf('.', a + 1);
  if (a < 0 || b < 0 || token.indexOf('.', b + 1) >= 0) {
    trace?.('format', false, 'not a compact JWS: expected exactly three dot-separated segments');
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', 'not a compact JWS (three segments)');
  }
  const h = token.slice(0, a);
  const p = token.slice(a + 1, b);
  const s = token.slice(b + 1);
  const known = headers.get(h);
  if ((known === undefined && !isCanonicalB64url(h)) || !isCanonicalB64url(p) || !isCanonicalB64url(s)) {
    trace?.('format', false, 'a segment is not canonical unpadded base64url (RFC 7515 §2)');
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', 'segment is not canonical unpadded base64url');
  }
  trace?.('format', true, 'compact JWS, three canonical base64url segments');
  const header = known ?? decodeHeader(h);
  if (!header) {
    trace?.('header', false, 'the protected header is not a UTF-8 JSON object');
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', 'protected header is not a JSON object');
  }
  const claims = decodeJsonObject(p);
  if (!claims) {
    trace?.('header', false, 'the payload is not a UTF-8 JSON object (JWT claims set)');
    throw tokenError('GH_TOKEN_MALFORMED', 'token.malformed', 'payload is not a JSON object');
  }
  trace?.(
    'header',
    true,
    `alg=${String(header.alg)}${header.kid === undefined ? '' : ` kid=${String(header.kid)}`}${header.typ === undefined ? '' : ` typ=${String(header.typ)}`}`,
  );
  return { header, claims, signingInput: token.slice(0, b), signature: Buffer.from(s, 'base64url') };
}
