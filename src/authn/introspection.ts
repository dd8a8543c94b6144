import type { Logger } from 'pino';
import { CallBudget } from './budget.js';
import { idpThrottled, idpUnavailable } from './errors.js';
import type { IdpHttp } from './http.js';
import { Lru } from '../util/lru.js';
import { ambientChild } from '../pipeline/tracing.js';

/** Client settings for RFC 7662 introspection. */
export interface IntrospectionSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: 'client_secret_basic' | 'client_secret_post';
  readonly cacheTtlMs: number;
  readonly negativeTtlMs: number;
  /** Outbound budget: `count` calls per `periodMs`, bucket of `burst`. */
  readonly budget: { readonly count: number; readonly periodMs: number; readonly burst: number };
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
 * Calls that would leave the cache are bounded by a {@link CallBudget}: over it, 503
 * `GH_IDP_THROTTLED` with `Retry-After`, while cached answers keep working.
 */
export class Introspector {
  private readonly cache = new Lru<string, CacheEntry>(10_000);
  private readonly inflight = new Map<string, Promise<IntrospectionResult>>();
  private readonly budget: CallBudget;
  /** Epoch ms of the last "budget spent" warning (one per second at most). */
  private warnedAt = -Infinity;
  /** Calls made to the endpoint (metrics, tests). */
  calls = 0;
  /** Calls refused because the budget was spent (metrics, tests). */
  throttled = 0;

  constructor(
    private readonly provider: string,
    private readonly endpoint: () => Promise<string>,
    private readonly settings: IntrospectionSettings,
    private readonly http: IdpHttp,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const b = settings.budget;
    this.budget = new CallBudget(b.count, b.periodMs, b.burst, now);
  }

  /**
   * Introspects `token` (`hash` is its SHA-256, the cache key). Throws GH_IDP_UNAVAILABLE on
   * failure and GH_IDP_THROTTLED when the answer is not cached and the call budget is spent.
   */
  introspect(token: string, hash: string): Promise<IntrospectionResult> {
    const hit = this.cache.get(hash);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.result);
    let p = this.inflight.get(hash);
    if (!p) {
      const wait = this.budget.take();
      if (wait > 0) return Promise.reject(this.overBudget(wait));
      const span = ambientChild('introspection', {
        'http.request.method': 'POST',
        'gatehouse.provider': this.provider,
      });
      p = this.call(token, hash).finally(() => this.inflight.delete(hash));
      if (span !== undefined)
        void p.then(
          () => span.end(),
          (e: unknown) => span.end((e as Error).message),
        );
      this.inflight.set(hash, p);
    }
    return p;
  }

  private overBudget(waitMs: number): Error {
    this.throttled++;
    const b = this.settings.budget;
    const now = this.now();
    if (now - this.warnedAt >= 1000) {
      this.warnedAt = now;
      this.logger.warn(
        {
          provider: this.provider,
          budget: `${b.count}/${b.periodMs}ms`,
          burst: b.burst,
          refused: this.throttled,
        },
        'introspection budget spent: uncached tokens get 503 until it refills',
      );
    }
    return idpThrottled(
      this.provider,
      Math.max(1, Math.ceil(waitMs / 1000)),
      `introspection budget of ${b.count} per ${b.periodMs}ms (burst ${b.burst}) spent`,
    );
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
