import * as nodeCrypto from 'node:crypto';
import type { Principal } from '../pipeline/principal.js';
import { tokenError } from './errors.js';
import { checkTokenSize, looksLikeJws, parseCompactJws } from './jws.js';
import { verifyJwt, type VerifiedJwt } from './jwt.js';
import type { KeyEntry } from './keyset.js';
import type { Doorkeeper } from '../util/doorkeeper.js';
import type { Lru } from '../util/lru.js';
import type { Provider } from './provider.js';
import type { Tracer } from './trace.js';

/** A verified token remembered by hash: never the token itself. */
export interface CachedToken {
  readonly principal: Principal;
  readonly provider: Provider;
  readonly key: KeyEntry | undefined;
  readonly deadlineMs: number;
}

/** Options for one verification. */
export interface VerifyOptions {
  /** Epoch ms (default Date.now()). */
  readonly nowMs?: number;
  /** Skip the verified-token cache (explain). */
  readonly noCache?: boolean;
  readonly trace?: Tracer;
}

/** SHA-256 hex of a token: the cache key and, truncated, the credential id. */
export function tokenHash(token: string): string {
  return oneShot
    ? oneShot('sha256', token, 'hex')
    : nodeCrypto.createHash('sha256').update(token).digest('hex');
}

/** `crypto.hash` (Node ≥ 20.12): one call, no Hash object per token. */
const oneShot = (nodeCrypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

/**
 * Verifies bearer tokens for one set of providers (a route's `providers`). Routes with the same
 * set share one verifier and one cache namespace: cache keys are `<verifier id>:<sha256>`, so a
 * token verified for one provider set is never accepted by a route that trusts another. With a
 * {@link Doorkeeper}, a verified JWT is cached from its second use on: one-off tokens never
 * displace reused ones (and cost no cache churn); a reused token pays one extra verification.
 */
export class TokenVerifier {
  private readonly byIssuer = new Map<string, Provider>();
  private readonly introspecting: Provider | undefined;

  constructor(
    readonly id: string,
    readonly providers: readonly Provider[],
    private readonly cache: Lru<string, CachedToken>,
    private readonly doorkeeper?: Doorkeeper,
  ) {
    for (const p of providers) this.byIssuer.set(p.issuer, p);
    this.introspecting = providers.find((p) => p.introspector !== undefined);
  }

  /** Verifies `token` and maps it to a principal. Throws GatehouseError (401/503). */
  verify(token: string, opts: VerifyOptions = {}): Principal | Promise<Principal> {
    const trace = opts.trace;
    checkTokenSize(token, trace);
    const nowMs = opts.nowMs ?? Date.now();
    const hash = tokenHash(token);
    const key = `${this.id}:${hash}`;
    if (!opts.noCache) {
      const hit = this.cache.get(key);
      if (
        hit &&
        nowMs < hit.deadlineMs &&
        (hit.key === undefined || (!hit.key.retired && hit.provider.keys?.usable() === true))
      ) {
        return hit.principal;
      }
      if (hit) this.cache.delete(key);
    }
    const credentialId = hash.slice(0, 16);
    if (!looksLikeJws(token))
      return this.introspect(this.introspecting, token, hash, credentialId, nowMs, trace);
    const jws = parseCompactJws(token, trace);
    const iss = jws.claims.iss;
    const provider = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    if (!provider) {
      trace?.(
        'iss',
        false,
        `iss ${JSON.stringify(iss)} is not the issuer of ${this.providers.map((p) => `"${p.name}"`).join(', ')}`,
      );
      throw tokenError(
        'GH_TOKEN_ISSUER',
        'token.issuer',
        `iss ${JSON.stringify(iss)} matches no accepted provider`,
      );
    }
    trace?.('provider', true, `iss selects provider "${provider.name}"`);
    if (provider.tokenType === 'opaque')
      return this.introspect(provider, token, hash, credentialId, nowMs, trace);
    const v = verifyJwt(provider, jws, Math.floor(nowMs / 1000), trace);
    return v instanceof Promise
      ? v.then((r) => this.finish(r, key, hash, credentialId, opts))
      : this.finish(v, key, hash, credentialId, opts);
  }

  private finish(
    v: VerifiedJwt,
    key: string,
    hash: string,
    credentialId: string,
    opts: VerifyOptions,
  ): Principal {
    const principal = v.provider.mapper.map(v.claims, 'jwt', credentialId, opts.trace);
    if (!opts.noCache && this.admit(hash))
      this.cache.set(key, { principal, provider: v.provider, key: v.key, deadlineMs: v.deadlineMs });
    return principal;
  }

  /** Second sighting of a verified token (or no doorkeeper): worth a cache entry. */
  private admit(hash: string): boolean {
    const d = this.doorkeeper;
    return d === undefined || d.seen(parseInt(hash.slice(0, 8), 16), parseInt(hash.slice(8, 16), 16));
  }

  private async introspect(
    p: Provider | undefined,
    token: string,
    hash: string,
    credentialId: string,
    nowMs: number,
    trace?: Tracer,
  ): Promise<Principal> {
    if (!p?.introspector) {
      trace?.('format', false, 'not a JWT, and no accepted provider does introspection');
      throw tokenError('GH_TOKEN_MALFORMED', 'token.not_jwt', 'opaque token and no introspecting provider');
    }
    const r = await p.introspector.introspect(token, hash);
    if (!r) {
      trace?.('introspection', false, `provider "${p.name}" says the token is not active`);
      throw tokenError(
        'GH_TOKEN_INVALID',
        'token.inactive',
        `introspection at provider "${p.name}": active=false`,
      );
    }
    trace?.('introspection', true, `provider "${p.name}" says the token is active`);
    const now = nowMs / 1000;
    if (r.iss !== undefined && r.iss !== p.issuer) {
      trace?.('iss', false, `introspection iss ${JSON.stringify(r.iss)} is not ${p.issuer}`);
      throw tokenError('GH_TOKEN_ISSUER', 'token.issuer', `introspection iss ${JSON.stringify(r.iss)}`);
    }
    if (p.audiences !== undefined && !(p.allowMissingAudience && r.aud === undefined)) {
      const aud = r.aud;
      const ok =
        typeof aud === 'string'
          ? p.audiences.includes(aud)
          : Array.isArray(aud) && p.audiences.some((a) => aud.includes(a));
      if (!ok) {
        trace?.('aud', false, `aud ${JSON.stringify(aud)} contains none of ${p.audiences.join(', ')}`);
        throw tokenError('GH_TOKEN_AUDIENCE', 'token.audience', `introspection aud ${JSON.stringify(aud)}`);
      }
    }
    if (typeof r.exp === 'number' && r.exp <= now - p.skewSec) {
      trace?.('exp', false, 'expired');
      throw tokenError('GH_TOKEN_EXPIRED', 'token.expired', `introspection exp ${r.exp}`);
    }
    if (typeof r.nbf === 'number' && r.nbf > now + p.skewSec) {
      trace?.('nbf', false, 'not yet valid');
      throw tokenError('GH_TOKEN_NOT_YET_VALID', 'token.not_yet_valid', `introspection nbf ${r.nbf}`);
    }
    // RFC 7662 §2.2: `sub` is optional; fall back to the resource owner's username, then the client.
    const claims = { iss: p.issuer, ...r, sub: r.sub ?? r.username ?? r.client_id };
    return p.mapper.map(claims, 'introspection', credentialId, trace);
  }
}
