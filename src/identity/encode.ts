import { GatehouseError } from '../errors/index.js';

/** How identity values outside printable ASCII are put on the wire (`identity.non_ascii`). */
export type NonAsciiMode = 'percent' | 'rfc8187' | 'reject';

/**
 * The encoding of one route, applied to every placeholder value of its header templates.
 * `scalar`/`list` run on placeholder values, `whole` on the rendered header value. No mode
 * ever lets CR, LF, NUL or any other control character through.
 */
export interface ValueEncoding {
  readonly mode: NonAsciiMode;
  scalar(v: string): string;
  list(items: readonly string[], sep: string): string;
  whole(v: string): string;
}

const HEX = '0123456789ABCDEF';

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Percent-encodes the UTF-8 bytes of `s` for which `keep(byte)` is false (RFC 3986 §2.1). */
function pctEncode(s: string, keep: (b: number) => boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += keep(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Percent mode: control characters, non-ASCII, `%` itself, leading/trailing spaces (which an
 * HTTP parser would trim) and any character of `extra` (the list separator) are encoded, so
 * `Uri.UnescapeDataString` / `decodeURIComponent` gives back the exact value.
 */
export function percentEncodeValue(s: string, extra = ''): string {
  const e0 = extra.length === 0 ? -1 : extra.charCodeAt(0);
  const multi = extra.length > 1;
  let plain = s.length === 0 || (s.charCodeAt(0) !== 0x20 && s.charCodeAt(s.length - 1) !== 0x20);
  if (plain) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x25 || c === e0 || (multi && extra.includes(s[i] as string))) {
        plain = false;
        break;
      }
    }
  }
  if (plain) return s;
  const last = Buffer.byteLength(s, 'utf8') - 1;
  let i = -1;
  return pctEncode(s, (b) => {
    i++;
    if (b === 0x20) return i !== 0 && i !== last && b !== e0;
    return (
      b > 0x20 && b < 0x7f && b !== 0x25 && b !== e0 && !(multi && extra.includes(String.fromCharCode(b)))
    );
  });
}

const ATTR_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~')
  ATTR_CHAR[c.charCodeAt(0)] = 1;

/**
 * RFC 8187 mode: printable ASCII is sent as is; anything else becomes an ext-value
 * `UTF-8''<pct-encoded>` (RFC 8187 §3.2). A plain value that itself starts with `UTF-8''` is
 * encoded too, so a user cannot make the upstream decode a value they chose.
 */
export function rfc8187EncodeValue(s: string): string {
  const trimmedSafe = s.length === 0 || (s.charCodeAt(0) !== 0x20 && s.charCodeAt(s.length - 1) !== 0x20);
  if (trimmedSafe && isPlainAscii(s) && !/^utf-8''/i.test(s)) return s;
  return "UTF-8''" + pctEncode(s, (b) => b < 128 && ATTR_CHAR[b] === 1);
}

function rejectCheck(s: string, sep?: string): string {
  if (!isPlainAscii(s)) {
    throw new GatehouseError(
      'GH_IDENTITY_UNENCODABLE',
      'identity value contains non-ASCII or control characters',
      {
        reasons: ['identity.value.unencodable'],
      },
    );
  }
  if (sep !== undefined && sep !== '' && s.includes(sep)) {
    throw new GatehouseError(
      'GH_IDENTITY_UNENCODABLE',
      `list item contains the separator ${JSON.stringify(sep)}`,
      {
        reasons: ['identity.value.unencodable'],
      },
    );
  }
  return s;
}

const identity = (v: string): string => v;

/** The {@link ValueEncoding} for a mode; built once per route at config load. */
export function valueEncoding(mode: NonAsciiMode): ValueEncoding {
  switch (mode) {
    case 'percent':
      return {
        mode,
        scalar: (v) => percentEncodeValue(v),
        list: (items, sep) => {
          let out = '';
          for (let i = 0; i < items.length; i++)
            out += (i === 0 ? '' : sep) + percentEncodeValue(items[i] as string, sep);
          return out;
        },
        whole: identity,
      };
    case 'rfc8187':
      return { mode, scalar: identity, list: (items, sep) => items.join(sep), whole: rfc8187EncodeValue };
    case 'reject':
      return {
        mode,
        scalar: (v) => rejectCheck(v),
        list: (items, sep) => items.map((i) => rejectCheck(i, sep)).join(sep),
        whole: identity,
      };
  }
}

/** RFC 9110 §5.1 field-name: a `token`. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
