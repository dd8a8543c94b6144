import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { memoGet, memoSet, type Principal } from '../pipeline/principal.js';
import type { AssertionAlgorithm } from './keys.js';
import type { AssertionKeySet } from './keyset.js';
import { Lru } from '../util/lru.js';

/** Claims Gatehouse always sets itself; `identity.assertion.claims` cannot copy over them. */
export const RESERVED_ASSERTION_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'aud',
  'sub',
  'iat',
  'nbf',
  'exp',
  'jti',
  'email',
  'name',
  'groups',
  'roles',
  'tid',
  'azp',
  'idp',
  'auth_method',
  'principal_type',
]);

/** A route's assertion settings, compiled from `routes[].identity.assertion`. */
export interface RouteAssertionOptions {
  readonly audience: string;
  /** `all`, or only these groups (those the principal has). Empty: no `groups` claim. */
  readonly groups: 'all' | ReadonlySet<string>;
  readonly roles: 'all' | ReadonlySet<string>;
  /** Extra principal claims copied as is. */
  readonly claims: readonly string[];
  readonly ttlMs: number;
  /** JWS algorithm of this route's assertions (`assertion.alg`); default: the key set's default. */
  readonly alg?: AssertionAlgorithm | undefined;
  /** Max cached tokens for this route (per principal credential). */
  readonly cacheSize?: number | undefined;
}

interface Entry {
  token: string | undefined;
  pending: Promise<string> | undefined;
  /** Epoch ms after which a new token is signed (shortly before `exp`). */
  refreshAt: number;
}

function filterList(list: readonly string[], f: 'all' | ReadonlySet<string>): readonly string[] {
  if (f === 'all') return list;
  if (f.size === 0) return [];
  return list.filter((g) => f.has(g));
}

/**
 * Signs the per-route identity assertion (the Google IAP / Pomerium pattern) and caches it per
 * principal credential until shortly before it expires, so a steady stream of requests from one
 * caller costs a map lookup, not a signature. The entry is also kept on the principal object
 * (pipeline/principal.ts), which saves building the credential key on a cached token's requests.
 */
export class RouteAssertion {
  private readonly byCredential: Lru<string, Entry>;

  constructor(
    private readonly keys: AssertionKeySet,
    private readonly issuer: string,
    private readonly opts: RouteAssertionOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.byCredential = new Lru(opts.cacheSize ?? 10_000);
  }

  /** The assertion for `p`: a string from cache, or a promise when a new one must be signed. */
  get(p: Principal): string | Promise<string> {
    const now = this.now();
    const credKey =
      p.credentialId === undefined
        ? undefined
        : `${p.provider}\n${p.subject}\n${p.credentialId}\n${p.expiresAt ?? ''}`;
    let e = memoGet<Entry>(p, this) ?? (credKey === undefined ? undefined : this.byCredential.get(credKey));
    if (e) {
      if (e.token !== undefined && now < e.refreshAt) return e.token;
      if (e.pending) return e.pending;
    } else {
      e = { token: undefined, pending: undefined, refreshAt: 0 };
      if (credKey !== undefined) {
        this.byCredential.set(credKey, e);
      }
    }
    memoSet(p, this, e);
    const entry = e;
    const promise = this.sign(p, now).then(
      ({ token, refreshAt }) => {
        entry.token = token;
        entry.refreshAt = refreshAt;
        entry.pending = undefined;
        return token;
      },
      (err: unknown) => {
        entry.pending = undefined;
        throw err;
      },
    );
    entry.pending = promise;
    return promise;
  }

  /** Signs a fresh assertion (no cache). `exp` never exceeds the credential's own expiry. */
  async sign(p: Principal, now = this.now()): Promise<{ token: string; refreshAt: number }> {
    const { opts } = this;
    const iat = Math.floor(now / 1000);
    let exp = iat + Math.max(1, Math.floor(opts.ttlMs / 1000));
    if (p.expiresAt !== undefined && p.expiresAt > iat && p.expiresAt < exp) exp = p.expiresAt;
    const payload: Record<string, unknown> = {};
    for (const c of opts.claims)
      if (Object.hasOwn(p.claims, c) && p.claims[c] !== undefined) payload[c] = p.claims[c];
    Object.assign(payload, {
      iss: this.issuer,
      aud: opts.audience,
      sub: p.subject,
      iat,
      exp,
      jti: randomUUID(),
    });
    if (p.email !== undefined) payload.email = p.email;
    if (p.name !== undefined) payload.name = p.name;
    const groups = filterList(p.groups, opts.groups);
    if (groups.length > 0) payload.groups = groups;
    const roles = filterList(p.roles, opts.roles);
    if (roles.length > 0) payload.roles = roles;
    if (p.tenant !== undefined) payload.tid = p.tenant;
    if (p.clientId !== undefined) payload.azp = p.clientId;
    payload.idp = p.provider;
    payload.auth_method = p.method;
    payload.principal_type = p.kind;
    const key = this.keys.signingKey(opts.alg);
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey as NonNullable<typeof key.privateKey>);
    const lifetime = (exp - iat) * 1000;
    const margin = Math.min(lifetime / 2, Math.max(5000, lifetime / 4));
    return { token, refreshAt: now + lifetime - margin };
  }
}
