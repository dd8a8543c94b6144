/**
 * HTTP caching rules for a shared cache (RFC 9111), reduced to what a gateway cache in front
 * of one app needs: no revalidation, no stale serving, no heuristic freshness beyond the
 * route's `ttl`.
 */

/** Parsed Cache-Control directives: name (lower-case) → argument ('' when none). RFC 9111 §5.2. */
export function parseCacheControl(value: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    let arg = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (arg.startsWith('"') && arg.endsWith('"') && arg.length >= 2) arg = arg.slice(1, -1);
    if (!out.has(name)) out.set(name, arg);
  }
  return out;
}

/** A delta-seconds argument (RFC 9111 §1.2.2), or undefined when absent/invalid. */
function deltaSeconds(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Math.min(Number(v), 2 ** 31);
}

/** Status codes whose responses may be stored (RFC 9110 §15.1 "heuristically cacheable" + 203/204). */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** What a request asks of the cache (RFC 9111 §5.2.1). */
export interface RequestCachePolicy {
  /** Do not answer from the cache (no-cache, max-age=0, Range, …). */
  readonly skipLookup: boolean;
  /** Do not store the response (no-store, Range). */
  readonly skipStore: boolean;
  /** max-age the client accepts, in seconds. */
  readonly maxAge: number | undefined;
}

/** Reads the request directives that matter to the cache. */
export function requestPolicy(headers: Record<string, string | string[] | undefined>): RequestCachePolicy {
  if (headers['range'] !== undefined) return { skipLookup: true, skipStore: true, maxAge: undefined };
  const cc = headers['cache-control'];
  if (cc === undefined) {
    const pragma = headers['pragma'];
    const noCache = typeof pragma === 'string' && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma);
    return { skipLookup: noCache, skipStore: false, maxAge: undefined };
  }
  const d = parseCacheControl(cc);
  const maxAge = deltaSeconds(d.get('max-age'));
  return {
    skipLookup: d.has('no-cache') || d.has('no-store') || maxAge === 0,
    skipStore: d.has('no-store'),
    maxAge,
  };
}

/** Why a response was not stored, or its freshness lifetime. */
export type StoreDecision =
  | { readonly store: true; readonly ttlMs: number; readonly initialAge: number }
  | { readonly store: false; readonly why: string };

/**
 * Decides whether a response may be stored and for how long. Never stores `private`,
 * `no-store`, `no-cache` (we do not revalidate), `Set-Cookie`, `Vary: *`, partial content, or
 * statuses outside the storable set. Freshness: `s-maxage`, else `max-age`, else
 * `Expires − Date` (RFC 9111 §4.2.1), else the route `ttl`; never longer than the route `ttl`;
 * minus the upstream's `Age`.
 */
export function responsePolicy(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  routeTtlMs: number,
): StoreDecision {
  if (!STORABLE_STATUS.has(status)) return { store: false, why: 'status' };
  if (headers['set-cookie'] !== undefined) return { store: false, why: 'set-cookie' };
  if (headers['content-range'] !== undefined) return { store: false, why: 'partial' };
  const vary = headers['vary'];
  if (vary !== undefined && varyNames(vary).includes('*')) return { store: false, why: 'vary-star' };
  const d = parseCacheControl(headers['cache-control']);
  if (d.has('no-store')) return { store: false, why: 'no-store' };
  if (d.has('private')) return { store: false, why: 'private' };
  if (d.has('no-cache')) return { store: false, why: 'no-cache' };
  let lifetime = deltaSeconds(d.get('s-maxage')) ?? deltaSeconds(d.get('max-age'));
  if (lifetime === undefined && typeof headers['expires'] === 'string') {
    const exp = Date.parse(headers['expires']);
    const date = typeof headers['date'] === 'string' ? Date.parse(headers['date']) : Date.now();
    lifetime = Number.isNaN(exp)
      ? 0
      : Math.max(0, Math.floor((exp - (Number.isNaN(date) ? Date.now() : date)) / 1000));
  }
  const ageHeader = headers['age'];
  const initialAge = (typeof ageHeader === 'string' ? deltaSeconds(ageHeader.trim()) : undefined) ?? 0;
  let ttlMs = lifetime === undefined ? routeTtlMs : Math.min(routeTtlMs, lifetime * 1000);
  ttlMs -= initialAge * 1000;
  if (ttlMs <= 0) return { store: false, why: 'stale' };
  return { store: true, ttlMs, initialAge };
}

/** Lower-cased header names listed in Vary (RFC 9110 §12.5.5). */
export function varyNames(vary: string | string[]): string[] {
  const text = Array.isArray(vary) ? vary.join(',') : vary;
  const out: string[] = [];
  for (const p of text.split(',')) {
    const n = p.trim().toLowerCase();
    if (n !== '' && !out.includes(n)) out.push(n);
  }
  return out.sort();
}
