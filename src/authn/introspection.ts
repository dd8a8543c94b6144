import type { Logger } from 'pino';
import { idpUnavailable } from './errors.js';
import type { IdpHttp } from './http.js';
import { Lru } from '../util/lru.js';

/** Client settings for RFC 7662 introspection. */
export interface IntrospectionSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: 'client_secret_basic' | 'client_secret_post';
  readonly cacheTtlMs: number;
  readonly negativeTtlMs: number;
}

/** Introspection answer: the response members when `active`, or `undefined` when inactive. */
export type IntrospectionResult = Readonly<Record<string, unknown>> | undefined;

interface CacheEntry {
  readonly result: IntrospectionResult;
  readonly until: number;
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * OAuth 2.0 Token Introspection (RFC 7662) for opaque tokens, with client authentication.
 * Active results are cached until the earlier of `exp` and the TTL, inactive ones briefly;
 * concurrent introspections of one token share a single call; any failure fails closed (503).
 */
export class Introspector {
  private readonly cache = new Lru<string, CacheEntry>(10_000);
  private readonly inflight = new Map<string, Promise<IntrospectionResult>>();
  /** Calls made to the endpoint (metrics, tests). */
  calls = 0;

  constructor(
    private readonly provider: string,
    private readonly endpoint: () => Promise<string>,
    private readonly settings: IntrospectionSettings,
    private readonly http: IdpHttp,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Introspects `token` (`hash` is its SHA-256, the cache key). Throws GH_IDP_UNAVAILABLE on failure. */
  introspect(token: string, hash: string): Promise<IntrospectionResult> {
    const hit = this.cache.get(hash);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.result);
    let p = this.inflight.get(hash);
    if (!p) {
      p = this.call(token, hash).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, p);
    }
    return p;
  }

  private async call(token: string, hash: string): Promise<IntrospectionResult> {
    this.calls++;
    const s = this.settings;
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (s.authMethod === 'client_secret_basic') headers.authorization = basic(s.clientId, s.clientSecret);
    else {
      form.set('client_id', s.clientId);
      form.set('client_secret', s.clientSecret);
    }
    let body: unknown;
    let url = '(unresolved)';
    try {
      url = await this.endpoint();
      body = await this.http.json(url, { method: 'POST', headers, body: form.toString() });
    } catch (e) {
      this.logger.warn({ provider: this.provider, err: (e as Error).message }, 'token introspection failed');
      throw idpUnavailable(this.provider, `introspection at ${url} failed: ${(e as Error).message}`);
    }
    if (
      typeof body !== 'object' ||
      body === null ||
      Array.isArray(body) ||
      typeof (body as { active?: unknown }).active !== 'boolean'
    ) {
      throw idpUnavailable(
        this.provider,
        `introspection at ${url} answered without a boolean "active" (RFC 7662 §2.2)`,
      );
    }
    const r = body as Record<string, unknown>;
    const now = this.now();
    if (r.active !== true) {
      this.cache.set(hash, { result: undefined, until: now + s.negativeTtlMs });
      return undefined;
    }
    const expMs = typeof r.exp === 'number' ? r.exp * 1000 : Infinity;
    const until = Math.min(expMs, now + s.cacheTtlMs);
    if (until > now) this.cache.set(hash, { result: r, until });
    return r;
  }
}
