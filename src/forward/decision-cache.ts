import { createHash } from 'node:crypto';
import type { Principal } from '../pipeline/principal.js';
import type { RequestContext } from '../pipeline/context.js';

/**
 * Request headers left out of the credential hash: they describe the request or its transport,
 * vary from one request to the next and are read by no authenticator. Every other header
 * (Authorization, Cookie, API-key and custom token headers…) is part of the key.
 */
const NOT_CREDENTIALS = new Set([
  'host',
  'content-length',
  'content-type',
  'connection',
  'keep-alive',
  'te',
  'via',
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'pragma',
  'referer',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'priority',
  'upgrade-insecure-requests',
  'dnt',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'sec-purpose',
  'purpose',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-uri',
  'x-forwarded-method',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-original-uri',
  'x-original-method',
  'x-original-url',
  'x-real-ip',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-amzn-trace-id',
  'x-cloud-trace-context',
  'uber-trace-id',
]);

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number;
}

/**
 * Forward-auth's authentication cache (`forward_auth.cache_ttl`): the principal a credential
 * proved on a route, keyed by SHA-256 over the route name, the original request's query (tokens
 * and API keys may travel there) and every request header that can carry a credential. A hit
 * spares the authenticators (JWKS, introspection, session store); rules, limits and identity
 * headers still run for every check. Entries live at most the TTL and never past the
 * credential's own expiry; the Map is bounded, oldest first out. One cache per runtime state,
 * so a reload starts empty.
 */
export class DecisionCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
  ) {}

  /** The cache key of a context whose route is matched. */
  key(ctx: RequestContext): string {
    const h = createHash('sha256');
    h.update(ctx.route?.name ?? '')
      .update('\n')
      .update(ctx.query)
      .update('\n');
    const raw = ctx.req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (NOT_CREDENTIALS.has(name)) continue;
      h.update(name)
        .update(':')
        .update(raw[i + 1] as string)
        .update('\n');
    }
    return h.digest('base64url');
  }

  get(key: string, now = Date.now()): Principal | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.principal;
  }

  set(key: string, principal: Principal, now = Date.now()): void {
    let expiresAt = now + this.ttlMs;
    if (principal.expiresAt !== undefined) expiresAt = Math.min(expiresAt, principal.expiresAt * 1000);
    if (expiresAt <= now) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { principal, expiresAt });
  }

  get size(): number {
    return this.#entries.size;
  }
}
