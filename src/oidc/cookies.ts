/**
 * Minimal, allocation-light cookie handling for Gatehouse's own cookies (RFC 6265).
 */

/** Attributes of a cookie Gatehouse sets. */
export interface CookieOptions {
  /** `Secure` attribute (always on over https; required by the `__Host-` prefix). */
  readonly secure: boolean;
  /** Seconds; `0` deletes the cookie; `undefined` makes a browser-session cookie. */
  readonly maxAge?: number | undefined;
}

/**
 * Value of the first cookie called `name` in a `Cookie` header, or undefined. The first one
 * wins: browsers send the most specific (longest path) first, and `__Host-` cookies cannot be
 * planted by a sibling subdomain.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length === 0) return undefined;
  let from = 0;
  for (;;) {
    const i = header.indexOf(name, from);
    if (i < 0) return undefined;
    const before = i === 0 ? 0x3b : header.charCodeAt(i - 1);
    const boundary = before === 0x3b /* ; */ || before === 0x20 || before === 0x09;
    if (boundary && header.charCodeAt(i + name.length) === 0x3d /* = */) {
      const start = i + name.length + 1;
      const end = header.indexOf(';', start);
      return header.slice(start, end < 0 ? header.length : end).trim();
    }
    from = i + name.length;
  }
}

/** Names of every cookie in the header that starts with `prefix`. */
export function cookieNamesWithPrefix(header: string | undefined, prefix: string): string[] {
  const out: string[] = [];
  if (header === undefined || !header.includes(prefix)) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name.startsWith(prefix)) out.push(name);
  }
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
 * A `Set-Cookie` value with HttpOnly, SameSite=Lax and Path=/ (never a Domain attribute, so
 * `__Host-` names stay valid).
 */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  let s = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`;
  if (opts.secure) s += '; Secure';
  if (opts.maxAge !== undefined) {
    s += `; Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`;
    if (opts.maxAge <= 0) s += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  return s;
}

/** A `Set-Cookie` value that deletes `name`. */
export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, '', { secure, maxAge: 0 });
}
