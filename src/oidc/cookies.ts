/**
 * Cookie handling for Gatehouse's own cookies (RFC 6265). `Cookie` headers are parsed as
 * RFC 6265 §5.4 / §4.2.1 lay them out: pairs separated by `;`, each `name=value` with optional
 * whitespace around both, names compared exactly (case-sensitive). A pair without `=` is
 * skipped. Checked against the `cookie` package by a differential property test.
 */

/** Attributes of a cookie Gatehouse sets. */
export interface CookieOptions {
  /** `Secure` attribute (always on over https; required by the `__Host-` prefix). */
  readonly secure: boolean;
  /** Seconds; `0` deletes the cookie; `undefined` makes a browser-session cookie. */
  readonly maxAge?: number | undefined;
  /** `Domain` attribute (only to clear a cookie a parent domain planted); default none (host-only). */
  readonly domain?: string | undefined;
  /** `Path` attribute; default `/`. */
  readonly path?: string | undefined;
}

const SP = 0x20;
const HTAB = 0x09;

/** `s` between `from` and `to` without leading and trailing SP/HTAB. */
function trimmed(s: string, from: number, to: number): string {
  while (from < to && (s.charCodeAt(from) === SP || s.charCodeAt(from) === HTAB)) from++;
  while (to > from && (s.charCodeAt(to - 1) === SP || s.charCodeAt(to - 1) === HTAB)) to--;
  return s.slice(from, to);
}

/**
 * Calls `each(name, value)` for every `name=value` pair of a `Cookie` header, in order; stops
 * early when `each` returns true.
 */
export function forEachCookie(header: string, each: (name: string, value: string) => boolean | void): void {
  const len = header.length;
  let start = 0;
  while (start < len) {
    let end = header.indexOf(';', start);
    if (end < 0) end = len;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && each(trimmed(header, start, eq), trimmed(header, eq + 1, end)) === true)
      return;
    start = end + 1;
  }
}

/** Every value sent for the cookie `name` (exact, case-sensitive), in header order. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const out: string[] = [];
  if (header === undefined || name === '' || !header.includes(name)) return out;
  forEachCookie(header, (n, v) => {
    if (n === name) out.push(v);
  });
  return out;
}

/**
 * Value of the cookie called `name` in a `Cookie` header when exactly one was sent; undefined
 * when none or several were (a duplicate is never resolved by "first wins": a sibling subdomain
 * can plant a parent-domain cookie of the same name, and browsers order cookies by path length
 * and creation time, not by trust).
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  const v = cookieValues(header, name);
  return v.length === 1 ? v[0] : undefined;
}

/** Names of every cookie in the header that starts with `prefix`. */
export function cookieNamesWithPrefix(header: string | undefined, prefix: string): string[] {
  const out: string[] = [];
  if (header === undefined || !header.includes(prefix)) return out;
  forEachCookie(header, (n) => {
    if (n.startsWith(prefix) && !out.includes(n)) out.push(n);
  });
  return out;
}

/**
 * The `Cookie` header without Gatehouse's own cookies (the session cookie `name` and every
 * cookie starting with `prefix`); `undefined` when nothing remains. Returns the header
 * unchanged (same string) when it holds none of them, so callers can compare by identity.
 */
export function withoutCookies(header: string, name: string, prefix: string): string | undefined {
  if (!header.includes(name) && !header.includes(prefix)) return header;
  const kept: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const n = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (n === name || n.startsWith(prefix) || n === '') continue;
    kept.push(part.trim());
  }
  return kept.length === 0 ? undefined : kept.join('; ');
}

/**
 * A `Set-Cookie` value with HttpOnly, SameSite=Lax and Path=/ (no Domain attribute unless one
 * is given, so `__Host-` names stay valid).
 */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  let s = `${name}=${value}; Path=${opts.path ?? '/'}; HttpOnly; SameSite=Lax`;
  if (opts.domain !== undefined) s += `; Domain=${opts.domain}`;
  if (opts.secure) s += '; Secure';
  if (opts.maxAge !== undefined) {
    s += `; Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`;
    if (opts.maxAge <= 0) s += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  return s;
}

/** A `Set-Cookie` value that deletes `name` (set with `domain`, when given). */
export function clearCookie(name: string, secure: boolean, domain?: string): string {
  return serializeCookie(name, '', { secure, maxAge: 0, domain });
}

/** At most this many path and domain levels are cleared for an ambiguous cookie. */
const MAX_CLEAR_LEVELS = 4;

/**
 * `Set-Cookie` values that delete every copy of `name` a browser may hold for this request:
 * host-only and `Domain=` each parent domain of `host` (not for IP addresses), each with
 * `Path=/` and every ancestor path of `path` (a `__Host-` cookie only exists host-only on `/`). Used when a request carried the
 * session cookie twice (one of them planted by a sibling subdomain or an older path cookie).
 */
export function clearCookieVariants(name: string, host: string, path: string, secure: boolean): string[] {
  const paths = ['/'];
  const hostOnly = name.startsWith('__Host-');
  const segs = hostOnly ? [] : path.split('/').filter((s) => s !== '');
  let p = '';
  for (const s of segs.slice(0, MAX_CLEAR_LEVELS)) {
    p += `/${s}`;
    if (/^[\x21-\x3a\x3c-\x7e]+$/.test(p)) paths.push(p);
  }
  const domains: (string | undefined)[] = [undefined];
  const isIp = /^[\d.]+$/.test(host) || host.includes(':') || host.startsWith('[');
  if (!isIp && !hostOnly) {
    const labels = host.split('.');
    for (let i = 0; i < labels.length - 1 && domains.length <= MAX_CLEAR_LEVELS; i++)
      domains.push(labels.slice(i).join('.'));
  }
  const out: string[] = [];
  for (const domain of domains)
    for (const at of paths) out.push(serializeCookie(name, '', { secure, maxAge: 0, domain, path: at }));
  return out;
}
