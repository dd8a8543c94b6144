import { RESPONSE_HOP_BY_HOP } from '../upstream/headers.js';
import { createHash } from 'node:crypto';
import type { RequestContext } from '../pipeline/context.js';
import type { Mutator } from '../pipeline/stages.js';
import { requestPolicy, responsePolicy, varyNames } from './policy.js';
import type { CachedResponse, CacheStore, CacheValue } from './store.js';

/** Counters for the dashboard, metrics and the benchmark. */
export interface CacheStats {
  hits: number;
  misses: number;
  stored: number;
  /** Responses not stored, by reason (`private`, `set-cookie`, `too-large`, …). */
  readonly notStored: Map<string, number>;
}

export function newCacheStats(): CacheStats {
  return { hits: 0, misses: 0, stored: 0, notStored: new Map() };
}

/** Receives the body of a response being forwarded, to store it once complete. */
export interface CaptureSink {
  write(chunk: Uint8Array): void;
  /** The whole body was forwarded: store it. */
  end(): void;
  /** The response was cut short: store nothing. */
  abort(): void;
}

/** Per-request cache state between `lookup` and `capture`. */
interface Pending {
  readonly primary: string;
  readonly skipStore: boolean;
}

const STATE = 'gh.cache.pending';
const ROUTE_CACHE = 'gh.cache';

/** Response headers never stored (hop-by-hop, RFC 9110 §7.6.1, and ones the cache computes). */
const UNSTORED: ReadonlySet<string> = new Set([
  ...RESPONSE_HOP_BY_HOP,
  'proxy-authenticate',
  'proxy-authorization',
  'content-length',
  'age',
  'x-cache',
]);

/** Route-level cache settings, compiled. */
export interface RouteCacheOptions {
  readonly routeName: string;
  readonly ttlMs: number;
  readonly maxEntrySize: number;
  /** Claim paths (split on `.`) that replace the principal in the key. */
  readonly varyOnClaims: readonly (readonly string[])[] | undefined;
}

function claim(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[seg];
  }
  return v ?? null;
}

function header(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
}

/**
 * The response cache of one route (Apigee ResponseCache), used by the forwarder:
 * `lookup` before forwarding (answer with `serve` on a hit), `capture` when the upstream's
 * response headers arrive. The key always contains the identity: the principal (provider and
 * subject), or the claims the route declares in `vary_on_claims`; anonymous requests carrying
 * Cookie/Authorization are keyed by a hash of those, so one user never gets another's page.
 */
export class RouteCache {
  constructor(
    readonly opts: RouteCacheOptions,
    readonly store: CacheStore,
    readonly stats: CacheStats,
  ) {}

  /** A mutator that attaches this cache to allowed requests (read back with {@link routeCacheOf}). */
  mutator(): Mutator {
    return { id: 'cache', mutate: (ctx) => void (ctx.extra[ROUTE_CACHE] = this) };
  }

  /** The primary key: route, host, path and query, identity. */
  key(ctx: RequestContext): string {
    const p = ctx.principal;
    let id: string;
    if (this.opts.varyOnClaims)
      id = `c|${JSON.stringify(this.opts.varyOnClaims.map((path) => claim(p?.claims, path)))}`;
    else if (p) id = `p|${p.provider}|${p.subject}`;
    else {
      const h = ctx.req.headers;
      const cred = header(h.authorization) + '\n' + header(h.cookie);
      id = cred === '\n' ? 'a|' : `a|${createHash('sha256').update(cred).digest('base64url')}`;
    }
    return `${this.opts.routeName}\n${ctx.host}\n${ctx.path}${ctx.query}\n${id}`;
  }

  /** A fresh stored response for this request, or undefined (then the forwarder proceeds). */
  lookup(ctx: RequestContext): CachedResponse | undefined | Promise<CachedResponse | undefined> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return undefined;
    const rp = requestPolicy(ctx.req.headers);
    const primary = this.key(ctx);
    ctx.extra[STATE] = { primary, skipStore: rp.skipStore } satisfies Pending;
    ctx.responseHeaders.set('X-Cache', 'MISS');
    if (rp.skipLookup) return this.#miss();
    const now = Date.now();
    const v = this.store.get(primary, now);
    return v instanceof Promise
      ? v.then((x) => this.#resolve(ctx, x, primary, now, rp.maxAge))
      : this.#resolve(ctx, v, primary, now, rp.maxAge);
  }

  #resolve(
    ctx: RequestContext,
    v: CacheValue | undefined,
    primary: string,
    now: number,
    maxAge: number | undefined,
  ): CachedResponse | undefined | Promise<CachedResponse | undefined> {
    if (v?.kind === 'vary') {
      const w = this.store.get(this.#secondary(ctx, primary, v.names), now);
      return w instanceof Promise ? w.then((x) => this.#fresh(x, now, maxAge)) : this.#fresh(w, now, maxAge);
    }
    return this.#fresh(v, now, maxAge);
  }

  #fresh(v: CacheValue | undefined, now: number, maxAge: number | undefined): CachedResponse | undefined {
    if (v?.kind !== 'response') return this.#miss();
    if (maxAge !== undefined && ageOf(v.response, now) > maxAge) return this.#miss();
    this.stats.hits++;
    return v.response;
  }

  #miss(): undefined {
    this.stats.misses++;
    return undefined;
  }

  #secondary(ctx: RequestContext, primary: string, names: readonly string[]): string {
    let k = primary;
    for (const n of names) k += `\n${n}:${header(ctx.req.headers[n])}`;
    return k;
  }

  #skip(why: string): undefined {
    this.stats.notStored.set(why, (this.stats.notStored.get(why) ?? 0) + 1);
    return undefined;
  }

  /**
   * Called with the upstream's status and raw header pairs (as received from undici, before
   * Gatehouse adds its own). Returns a sink for the body chunks when the response may be stored; bodies larger
   * than `max_entry_size` are streamed on but not stored.
   */
  capture(
    ctx: RequestContext,
    status: number,
    rawHeaders: readonly (Buffer | string)[],
  ): CaptureSink | undefined {
    const pending = ctx.extra[STATE] as Pending | undefined;
    if (!pending || ctx.method !== 'GET') return undefined;
    const headers = headerRecord(rawHeaders);
    if (pending.skipStore) return this.#skip('request-no-store');
    const d = responsePolicy(status, headers, this.opts.ttlMs);
    if (!d.store) return this.#skip(d.why);
    const max = this.opts.maxEntrySize;
    const cl = headers['content-length'];
    if (typeof cl === 'string' && Number(cl) > max) return this.#skip('too-large');
    const names = headers['vary'] === undefined ? [] : varyNames(headers['vary']);
    const connectionListed = new Set(varyNames(headers['connection'] ?? ''));
    const stored: [string, string][] = [];
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined || UNSTORED.has(k) || connectionListed.has(k)) continue;
      if (Array.isArray(v)) for (const x of v) stored.push([k, x]);
      else stored.push([k, v]);
    }
    const key = names.length === 0 ? pending.primary : this.#secondary(ctx, pending.primary, names);
    let chunks: Uint8Array[] = [];
    let size = 0;
    let dead = false;
    return {
      write: (chunk) => {
        if (dead) return;
        size += chunk.length;
        if (size > max) {
          dead = true;
          chunks = [];
          this.#skip('too-large');
        } else chunks.push(chunk);
      },
      abort: () => {
        dead = true;
        chunks = [];
      },
      end: () => {
        if (dead) return;
        dead = true;
        const now = Date.now();
        const expiresAt = now + d.ttlMs;
        const response: CachedResponse = {
          status,
          headers: stored,
          body: Buffer.concat(chunks, size),
          storedAt: now,
          expiresAt,
          initialAge: d.initialAge,
        };
        this.store.set(key, { kind: 'response', response }, now);
        if (names.length > 0) this.store.set(pending.primary, { kind: 'vary', names, expiresAt }, now);
        this.stats.stored++;
      },
    };
  }

  /** Answers the request from a stored response, with `Age` and `X-Cache: HIT` (HEAD: no body). */
  serve(ctx: RequestContext, hit: CachedResponse): void {
    const res = ctx.res;
    const grouped = new Map<string, string[]>();
    for (const [k, v] of hit.headers) {
      const g = grouped.get(k);
      if (g) g.push(v);
      else grouped.set(k, [v]);
    }
    for (const [k, v] of grouped) res.setHeader(k, v.length === 1 ? (v[0] as string) : v);
    for (const [k, v] of ctx.responseHeaders) res.setHeader(k, v);
    res.setHeader('Age', String(ageOf(hit, Date.now())));
    res.setHeader('X-Cache', 'HIT');
    res.setHeader('x-request-id', ctx.id);
    ctx.extra['cache'] = 'hit';
    const etag = grouped.get('etag')?.[0];
    const inm = ctx.req.headers['if-none-match'];
    if (etag !== undefined && inm !== undefined && etagMatches(inm, etag) && hit.status === 200) {
      res.removeHeader('content-type');
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = hit.status;
    res.setHeader('Content-Length', String(hit.body.length));
    if (ctx.method === 'HEAD') res.end();
    else res.end(hit.body);
  }
}

/** Raw `[name, value, …]` pairs → lower-cased record; repeated fields become arrays. */
function headerRecord(raw: readonly (Buffer | string)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = String(raw[i]).toLowerCase();
    const v =
      typeof raw[i + 1] === 'string' ? (raw[i + 1] as string) : (raw[i + 1] as Buffer).toString('latin1');
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The route cache attached to this request by the cache mutator, if any. */
export function routeCacheOf(ctx: RequestContext): RouteCache | undefined {
  return ctx.extra[ROUTE_CACHE] as RouteCache | undefined;
}

/** Age in whole seconds (RFC 9111 §4.2.3, simplified: no clock-skew correction needed for our own store). */
export function ageOf(r: CachedResponse, now: number): number {
  return r.initialAge + Math.max(0, Math.floor((now - r.storedAt) / 1000));
}

/** Weak comparison of If-None-Match against an ETag (RFC 9110 §13.1.2). */
function etagMatches(inm: string, etag: string): boolean {
  if (inm.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  const want = bare(etag);
  return inm.split(',').some((t) => bare(t) === want);
}
