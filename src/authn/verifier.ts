import * as nodeCrypto from 'node:crypto';
import type { Principal } from '../pipeline/principal.js';
import { checkBinding, tokenBinding } from './binding.js';
import { tokenError } from './errors.js';
import { checkIntrospection } from './introspected.js';
import { MAX_TOKEN_LENGTH, looksLikeJws, parseCompactJws } from './jws.js';
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
  /** `cnf.x5t#S256` of a certificate-bound token (RFC 8705 §3), checked on every use. */
  readonly boundCert: string | undefined;
}

/** Options for one verification. */
export interface VerifyOptions {
  /** Epoch ms (default Date.now()). */
  readonly nowMs?: number;
  /** Skip the verified-token cache (explain). */
  readonly noCache?: boolean;
  readonly trace?: Tracer;
}

function tooLarge(token: string, limit: number, who: string, trace?: Tracer): never {
  trace?.('format', false, `token is ${token.length} bytes; max_token_bytes of ${who} is ${limit}`);
  throw tokenError(
    'GH_TOKEN_MALFORMED',
    'token.too_large',
    `token is ${token.length} bytes (limit ${limit}, ${who})`,
  );
}

/** SHA-256 hex of a token: the cache key and, truncated, the credential id. */
export function tokenHash(token: string): string {
  return oneShot
    ? oneShot('sha256', token, 'hex')
    : nodeCrypto.createHash('sha256').update(token).digest('hex');
}

/** `crypto.hash` (Node ≥ 20.12): one call, no Hash object per token. */
const oneShot = (nodeCrypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

/** A cache entry still valid at `nowMs`: not expired, and its key neither retired nor stale. */
function usable(hit: CachedToken, nowMs: number): boolean {
  return (
    nowMs < hit.deadlineMs &&
    (hit.key === undefined || (!hit.key.retired && hit.provider.keys?.usable() === true))
  );
}

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
  /** Largest `max_token_bytes` of these providers: the limit before the issuer is known. */
  private readonly maxBytes: number;

  constructor(
    readonly id: string,
    readonly providers: readonly Provider[],
    private readonly cache: Lru<string, CachedToken>,
    private readonly doorkeeper?: Doorkeeper,
  ) {
    for (const p of providers) this.byIssuer.set(p.issuer, p);
    this.introspecting = providers.find((p) => p.introspector !== undefined);
    this.maxBytes = Math.max(
      ...providers.map((p) => p.maxTokenBytes),
      providers.length ? 0 : MAX_TOKEN_LENGTH,
    );
  }

  /**
   * Verifies `token` and maps it to a principal. Throws GatehouseError (401/503). `connection`
   * is the request's socket: a certificate-bound token is checked against its client
   * certificate (on every use, cached or not); without one such a token is refused.
   */
  verify(
    token: string,
    opts: VerifyOptions = {},
    connection?: unknown,
    /** {@link tokenHash} of `token` when the caller computed it already. */
    knownHash?: string,
  ): Principal | Promise<Principal> {
    const trace = opts.trace;
    if (token.length > this.maxBytes) tooLarge(token, this.maxBytes, 'every accepted provider', trace);
    const nowMs = opts.nowMs ?? Date.now();
    const hash = knownHash ?? tokenHash(token);
    const key = `${this.id}:${hash}`;
    if (!opts.noCache) {
      const hit = this.cache.get(key);
      if (hit && usable(hit, nowMs)) {
        if (hit.boundCert !== undefined) checkBinding(hit.boundCert, connection);
        return hit.principal;
      }
      if (hit) this.cache.delete(key);
    }
    const credentialId = hash.slice(0, 16);
    if (!looksLikeJws(token))
      return this.introspect(this.introspecting, token, hash, credentialId, nowMs, connection, trace);
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
    if (token.length > provider.maxTokenBytes)
      tooLarge(token, provider.maxTokenBytes, `provider "${provider.name}"`, trace);
    if (provider.tokenType === 'opaque')
      return this.introspect(provider, token, hash, credentialId, nowMs, connection, trace);
    const v = verifyJwt(provider, jws, Math.floor(nowMs / 1000), trace);
    return v instanceof Promise
      ? v.then((r) => this.finish(r, key, hash, credentialId, opts, connection))
      : this.finish(v, key, hash, credentialId, opts, connection);
  }

  /**
   * The principal of a token this verifier accepted before and still holds, without a
   * certificate binding: what {@link verify} returns for it (the same size, expiry and key
   * checks), or undefined when anything else would happen — a miss, an expired or bound entry —
   * for the caller to take the full path. A token the cache holds passed the token syntax
   * checks when it was verified (the SHA-256 names that very string), so a caller may probe
   * with a candidate it has not validated yet.
   */
  cached(token: string, hash: string): Principal | undefined {
    if (token.length > this.maxBytes) return undefined;
    const hit = this.cache.get(`${this.id}:${hash}`);
    return hit !== undefined && hit.boundCert === undefined && usable(hit, Date.now())
      ? hit.principal
      : undefined;
  }

  private finish(
    v: VerifiedJwt,
    key: string,
    hash: string,
    credentialId: string,
    opts: VerifyOptions,
    connection: unknown,
  ): Principal {
    const trace = opts.trace;
    const boundCert = tokenBinding(v.claims.cnf, trace);
    const principal = v.provider.mapper.map(v.claims, 'jwt', credentialId, trace);
    if (!opts.noCache && this.admit(hash))
      this.cache.set(key, {
        principal,
        provider: v.provider,
        key: v.key,
        deadlineMs: v.deadlineMs,
        boundCert,
      });
    if (boundCert !== undefined) checkBinding(boundCert, connection, trace);
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
    connection: unknown,
    trace?: Tracer,
  ): Promise<Principal> {
    if (!p?.introspector) {
      trace?.('format', false, 'not a JWT, and no accepted provider does introspection');
      throw tokenError('GH_TOKEN_MALFORMED', 'token.not_jwt', 'opaque token and no introspecting provider');
    }
    if (token.length > p.maxTokenBytes) tooLarge(token, p.maxTokenBytes, `provider "${p.name}"`, trace);
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
    const claims = checkIntrospection(p, r, nowMs / 1000, trace);
    const boundCert = tokenBinding(claims.cnf, trace);
    const principal = p.mapper.map(claims, 'introspection', credentialId, trace);
    if (boundCert !== undefined) checkBinding(boundCert, connection, trace);
    return principal;
  }
}
