import { GatehouseError } from '../errors/index.js';

export { checkIisSegments, iisProblem } from '../routing/iis.js';

/** A request target split into the normalised path and the raw query. */
export interface NormalizedTarget {
  /** Normalised path: what is matched, authorised and forwarded. Always starts with `/`. */
  readonly path: string;
  /** Raw query including the leading `?`, or `''`. Never used for matching. */
  readonly query: string;
}

/** Longest accepted path, in characters (before normalisation). */
export const MAX_PATH_LENGTH = 8192;

const SLASH = 0x2f;
const DOT = 0x2e;
const PCT = 0x25;
const HEX = '0123456789ABCDEF';

/** Raw path character classes (ASCII only; anything >= 0x80 is rejected). */
const BAD = 0;
const CLEAN = 1; // unreserved: ALPHA DIGIT - . _ ~ (RFC 3986 §2.3)
const KEEP = 2; // sub-delims but ";" plus ":" "@" (RFC 3986 §3.3 pchar)
const ENCODE = 3; // not allowed raw in a path but harmless once percent-encoded
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) CLASS[c] = CLEAN;
  else if ("!$&'()*+,=:@".includes(ch)) CLASS[c] = KEEP;
  else if ('"<>^`{|}[]'.includes(ch)) CLASS[c] = ENCODE;
}

/** Decoded escape values that are refused: separators, `;`, `?`, `#`, controls (RFC 3986 §2.4). */
function refusedEscape(v: number): boolean {
  return v < 0x20 || v === 0x7f || v === SLASH || v === 0x5c || v === 0x3b || v === 0x3f || v === 0x23;
}

function ambiguous(detail: string): GatehouseError {
  return new GatehouseError('GH_PATH_AMBIGUOUS', detail);
}

function badTarget(detail: string): GatehouseError {
  return new GatehouseError('GH_BAD_REQUEST_TARGET', detail);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  return c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
}

/**
 * Normalises a request target once per request, before routing. The returned path is the one
 * matched, authorised and forwarded, so the upstream serves exactly what was authorised.
 *
 * - origin-form (RFC 9112 §3.2.1); absolute-form (§3.2.2) only when its authority equals the
 *   Host header (case-insensitive, default port ignored); asterisk-form, authority-form, `//x`,
 *   userinfo and `#` → `GH_BAD_REQUEST_TARGET`.
 * - Unreserved escapes are decoded (`%61` → `a`), other escapes upper-cased (`%3a` → `%3A`),
 *   characters that are illegal raw in a path but harmless (`"<>^\`{|}[]`) are percent-encoded.
 * - `GH_PATH_AMBIGUOUS` for: invalid escapes; encoded `/` `\` `;` `?` `#` or control bytes;
 *   percent-escapes that are not valid UTF-8 (overlong `%C0%AF`); `%25` followed by two hex
 *   digits (double decoding); raw `\`, `;`, space, control or non-ASCII; dot-segments that were
 *   (partly) percent-encoded; `..` above the root; paths over {@link MAX_PATH_LENGTH}.
 * - Dot-segments are removed (RFC 3986 §5.2.4), repeated slashes collapsed, a trailing slash kept.
 *
 * Idempotent: `normalizeTarget(p.path, h).path === p.path`. Clean paths are returned unchanged
 * without copying. The query is returned raw; it must be printable ASCII.
 */
export function normalizeTarget(rawTarget: string, hostHeader: string): NormalizedTarget {
  let start = 0;
  if (rawTarget.charCodeAt(0) !== SLASH) {
    start = absoluteFormPathStart(rawTarget, hostHeader);
    if (start === rawTarget.length || rawTarget.charCodeAt(start) === 0x3f) {
      return { path: '/', query: checkQuery(rawTarget, start) };
    }
  }
  if (rawTarget.charCodeAt(start + 1) === SLASH) throw badTarget('request target starts with "//"');
  const q = rawTarget.indexOf('?', start);
  const end = q === -1 ? rawTarget.length : q;
  const query = q === -1 ? '' : checkQuery(rawTarget, q);
  if (end - start > MAX_PATH_LENGTH) throw ambiguous(`path longer than ${MAX_PATH_LENGTH} characters`);
  if (isClean(rawTarget, start, end)) {
    return { path: start === 0 && end === rawTarget.length ? rawTarget : rawTarget.slice(start, end), query };
  }
  return { path: normalizeSlow(rawTarget, start, end), query };
}

/** Returns the index where the path of an absolute-form target starts, or throws. */
function absoluteFormPathStart(t: string, hostHeader: string): number {
  if (t === '*') throw badTarget('asterisk-form request target');
  const colon = t.indexOf('://');
  const scheme = colon === -1 ? '' : t.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https')
    throw badTarget('request target is neither origin-form nor http(s) absolute-form');
  const aStart = colon + 3;
  let aEnd = aStart;
  while (aEnd < t.length) {
    const c = t.charCodeAt(aEnd);
    if (c === SLASH || c === 0x3f || c === 0x23) break;
    aEnd++;
  }
  const authority = t.slice(aStart, aEnd);
  if (authority.includes('@')) throw badTarget('userinfo in absolute-form request target');
  if (t.charCodeAt(aEnd) === 0x23) throw badTarget('fragment in request target');
  const defaultPort = scheme === 'https' ? 443 : 80;
  const target = hostPort(authority, defaultPort);
  const host = hostPort(hostHeader, defaultPort);
  if (target === undefined || host === undefined || target !== host) {
    throw badTarget('absolute-form request target names a host other than the Host header');
  }
  return aEnd;
}

/** `host:port` with lower-case host, no trailing dot and the default port made explicit. */
function hostPort(authority: string, defaultPort: number): string | undefined {
  const a = authority.toLowerCase();
  const close = a.startsWith('[') ? a.indexOf(']') : -1;
  const sep = a.indexOf(':', close + 1);
  let host = sep === -1 ? a : a.slice(0, sep);
  const portText = sep === -1 ? '' : a.slice(sep + 1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || (portText !== '' && !/^\d{1,5}$/.test(portText))) return undefined;
  return `${host}:${portText === '' ? defaultPort : Number(portText)}`;
}

function checkQuery(t: string, q: number): string {
  for (let i = q; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x23) throw badTarget('fragment in request target');
    if (c <= 0x20 || c >= 0x7f) throw badTarget('control, space or non-ASCII byte in query');
  }
  return q === t.length ? '' : t.slice(q);
}

/** Fast path: only unreserved characters and `/`, no empty, `.` or `..` segments. */
function isClean(s: string, start: number, end: number): boolean {
  let segLen = 0;
  let dots = 0;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === SLASH) {
      if (segLen === 0 || (dots === segLen && dots <= 2)) return false;
      segLen = 0;
      dots = 0;
    } else if (c < 128 && CLASS[c] === CLEAN) {
      segLen++;
      if (c === DOT) dots++;
    } else return false;
  }
  return !(segLen > 0 && dots === segLen && dots <= 2);
}

/** One pass over the path: decode, validate, remove dot-segments (RFC 3986 §5.2.4). */
function normalizeSlow(s: string, start: number, end: number): string {
  const segs: string[] = [];
  let seg = '';
  let encodedDot = false;
  let pct25 = false;
  // UTF-8 state for escaped bytes >= 0x80 (Unicode Table 3-7: no overlongs, surrogates, > U+10FFFF).
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  let trailing = false;
  for (let i = start + 1; ;) {
    if (i >= end || s.charCodeAt(i) === SLASH) {
      if (need !== 0) throw ambiguous('truncated UTF-8 sequence in percent-escapes');
      const last = i >= end;
      if (seg === '.' || seg === '..') {
        if (encodedDot) throw ambiguous('percent-encoded dot-segment');
        if (seg === '..' && segs.pop() === undefined) throw ambiguous('".." above the root');
        trailing = last;
      } else if (seg === '') {
        trailing = last && i > start + 1;
      } else {
        if (pct25) checkDoubleEncoding(seg);
        segs.push(seg);
      }
      if (last) break;
      seg = '';
      encodedDot = false;
      pct25 = false;
      i++;
      continue;
    }
    const c = s.charCodeAt(i);
    if (c === PCT) {
      const h1 = hexVal(s.charCodeAt(i + 1));
      const h2 = i + 2 < end ? hexVal(s.charCodeAt(i + 2)) : -1;
      if (h1 < 0 || h2 < 0) throw ambiguous('invalid percent-escape');
      const v = h1 * 16 + h2;
      i += 3;
      if (v >= 0x80) {
        if (need === 0) {
          if (v >= 0xc2 && v <= 0xdf) need = 1;
          else if (v >= 0xe0 && v <= 0xef) need = 2;
          else if (v >= 0xf0 && v <= 0xf4) need = 3;
          else throw ambiguous('invalid UTF-8 in percent-escapes');
          lo = v === 0xe0 ? 0xa0 : v === 0xf0 ? 0x90 : 0x80;
          hi = v === 0xed ? 0x9f : v === 0xf4 ? 0x8f : 0xbf;
        } else {
          if (v < lo || v > hi) throw ambiguous('invalid UTF-8 in percent-escapes');
          need--;
          lo = 0x80;
          hi = 0xbf;
        }
        seg += '%' + HEX[v >> 4] + HEX[v & 15];
        continue;
      }
      if (need !== 0) throw ambiguous('truncated UTF-8 sequence in percent-escapes');
      if (refusedEscape(v)) throw ambiguous(`percent-encoded %${HEX[v >> 4]}${HEX[v & 15]} in path`);
      if (CLASS[v] === CLEAN) {
        seg += String.fromCharCode(v);
        if (v === DOT) encodedDot = true;
      } else {
        if (v === PCT) pct25 = true;
        seg += '%' + HEX[v >> 4] + HEX[v & 15];
      }
      continue;
    }
    if (need !== 0) throw ambiguous('truncated UTF-8 sequence in percent-escapes');
    const cls = c < 128 ? CLASS[c] : BAD;
    if (c === 0x23) throw badTarget('fragment in request target');
    if (cls === CLEAN || cls === KEEP) seg += s[i];
    else if (cls === ENCODE) seg += '%' + HEX[c >> 4] + HEX[c & 15];
    else throw ambiguous(rawDetail(c));
    i++;
  }
  if (segs.length === 0) return '/';
  return '/' + segs.join('/') + (trailing ? '/' : '');
}

function rawDetail(c: number): string {
  if (c === 0x5c) return 'backslash in path';
  if (c === 0x3b) return '";" path parameter';
  if (c === 0x20) return 'space in path';
  return c >= 0x80 ? 'non-ASCII byte in path' : 'control byte in path';
}

/** `%25` followed by two hex digits decodes to another escape in a double-decoding upstream. */
function checkDoubleEncoding(seg: string): void {
  for (let k = seg.indexOf('%25'); k !== -1; k = seg.indexOf('%25', k + 3)) {
    if (hexVal(seg.charCodeAt(k + 3)) >= 0 && hexVal(seg.charCodeAt(k + 4)) >= 0) {
      throw ambiguous('double percent-encoding (%25 followed by an escape)');
    }
  }
}
