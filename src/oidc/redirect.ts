/**
 * Where a user may be sent after login or logout. Open redirects are a classic mistake of
 * login proxies (`/\evil`, `/%09/evil`, `https://user@host`, look-alike subdomains), so the
 * rules are strict and conservative: anything a browser could read as another host is refused.
 */

export interface ReturnToOptions {
  /** Gatehouse's external origin, e.g. `https://app.example.com`. */
  readonly origin: string;
  /**
   * Other hosts that may be returned to: exact host names (`portal.example.com`) or a suffix
   * starting with a dot (`.example.com`: the domain itself and every subdomain).
   */
  readonly allowedDomains: readonly string[];
}

const MAX_LENGTH = 4096;
/** C0 controls, space, DEL, backslash: never raw in a safe target. */
const FORBIDDEN = /[\u0000-\u0020\u007f\\]/;
/** C0 controls, DEL, backslash: never in a percent-decoded target either. */
const FORBIDDEN_DECODED = /[\u0000-\u001f\u007f\\]/;
const ABSOLUTE = /^https?:\/\/[^/\\]/i;

/**
 * Validates a post-login/post-logout target. Returns a normalised same-origin path (with query
 * and fragment), or a normalised absolute URL on an allowed host; `undefined` for anything else.
 *
 * Refused: protocol-relative (`//evil`) and backslash forms (`/\evil`), control characters or
 * whitespace anywhere (browsers strip tabs/newlines, WHATWG URL §4.4), their percent-encoded
 * forms (`/%09/evil`, `/%5cevil`, `/%2f/evil`), relative paths not starting with `/`
 * (`%2f%2fevil`), userinfo (`https://user@host`), schemes other than http(s), hosts not
 * allowed (including `host.evil.com` look-alikes), and `http:` when Gatehouse itself is https.
 */
export function safeReturnTo(target: string | undefined, opts: ReturnToOptions): string | undefined {
  if (target === undefined || target === '' || target.length > MAX_LENGTH) return undefined;
  if (FORBIDDEN.test(target) || !decodedIsSafe(target)) return undefined;
  let origin: URL;
  try {
    origin = new URL(opts.origin);
  } catch {
    return undefined;
  }
  if (target.startsWith('/')) {
    if (target.startsWith('//')) return undefined;
    return samePath(new URL(target, origin.origin), origin);
  }
  if (!ABSOLUTE.test(target)) return undefined;
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return undefined;
  }
  if (u.username !== '' || u.password !== '' || authority(target).includes('@')) return undefined;
  if (u.origin === origin.origin) return samePath(u, origin);
  if (u.protocol === 'http:' && origin.protocol === 'https:') return undefined;
  return hostAllowed(u.hostname, opts.allowedDomains) ? u.href : undefined;
}

/** True when `host` is listed exactly or falls under a `.suffix` entry. */
export function hostAllowed(host: string, allowedDomains: readonly string[]): boolean {
  const h = host.toLowerCase();
  for (const d of allowedDomains) {
    const a = d.toLowerCase();
    if (a.startsWith('.')) {
      if (h.endsWith(a) || h === a.slice(1)) return true;
    } else if (h === a) return true;
  }
  return false;
}

function samePath(u: URL, origin: URL): string | undefined {
  if (u.origin !== origin.origin) return undefined;
  const out = `${u.pathname}${u.search}${u.hash}`;
  // Dot-segment removal can produce `//x` from `/.//x` or `/..//x`.
  if (!out.startsWith('/') || out.startsWith('//')) return undefined;
  return out;
}

/** Percent-decodes up to three times; every layer must be free of forbidden characters and `//` starts. */
function decodedIsSafe(target: string): boolean {
  let cur = target;
  for (let i = 0; i < 3 && cur.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(cur);
    } catch {
      return i > 0;
    }
    if (FORBIDDEN_DECODED.test(next)) return false;
    if (target.startsWith('/') && next.startsWith('//')) return false;
    if (next === cur) break;
    cur = next;
  }
  return true;
}

/** The raw authority of an absolute URL string (between `//` and the next `/`, `?` or `#`). */
function authority(target: string): string {
  const start = target.indexOf('//') + 2;
  let end = target.length;
  for (const c of ['/', '?', '#']) {
    const i = target.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  return target.slice(start, end);
}
