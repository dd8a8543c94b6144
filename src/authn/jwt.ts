import { ALGS, verifyHmac, verifySignature, type AlgSpec } from './algorithms.js';
import { idpUnavailable, tokenError } from './errors.js';
import type { ParsedJws } from './jws.js';
import type { KeyEntry } from './keyset.js';
import { checkTimes, readTimes } from './lifetime.js';
import { DEFAULT_TYPS, normalizeTyp, type Provider } from './provider.js';
import type { Tracer } from './trace.js';

type Claims = Record<string, unknown>;

/** A token whose signature and claims passed for `provider`. */
export interface VerifiedJwt {
  readonly provider: Provider;
  readonly claims: Claims;
  /** The key that verified it (undefined for HMAC): a cached result dies with the key. */
  readonly key: KeyEntry | undefined;
  /** Epoch ms after which the token is no longer acceptable (exp + skew, max age). */
  readonly deadlineMs: number;
}

/** Headers that point at keys outside the provider's JWKS (RFC 7515 §4.1.2–4.1.6): never trusted. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

function checkHeader(p: Provider, h: Claims, trace?: Tracer): AlgSpec {
  if (h.crit !== undefined) {
    trace?.(
      'crit',
      false,
      'the token marks header parameters as critical; Gatehouse understands none (RFC 7515 §4.1.11)',
    );
    throw tokenError('GH_TOKEN_INVALID', 'token.crit_unsupported', 'crit header present');
  }
  for (const k of KEY_HEADERS) {
    if (h[k] !== undefined) {
      trace?.('key_headers', false, `"${k}" header present: keys are only taken from the provider JWKS`);
      throw tokenError('GH_TOKEN_INVALID', 'token.header_untrusted_key', `"${k}" header present`);
    }
  }
  const alg = h.alg;
  const spec = typeof alg === 'string' && p.algorithms.has(alg) ? ALGS.get(alg) : undefined;
  if (!spec) {
    trace?.(
      'alg',
      false,
      `alg ${JSON.stringify(alg)} is not one of ${[...p.algorithms].join(', ')} for provider "${p.name}"`,
    );
    throw tokenError(
      'GH_TOKEN_INVALID',
      'token.alg_not_allowed',
      `alg ${JSON.stringify(alg)} not allowed for provider "${p.name}"`,
    );
  }
  trace?.('alg', true, `${spec.alg} is allowed for provider "${p.name}"`);
  const typ = h.typ;
  if (
    p.requiredTyp !== undefined
      ? typeof typ !== 'string' || normalizeTyp(typ) !== p.requiredTyp
      : typ !== undefined && (typeof typ !== 'string' || !DEFAULT_TYPS.has(normalizeTyp(typ)))
  ) {
    const want = p.requiredTyp ?? 'absent, JWT or at+jwt';
    trace?.('typ', false, `typ ${JSON.stringify(typ)}; expected ${want}`);
    throw tokenError('GH_TOKEN_TYPE', 'token.typ', `typ ${JSON.stringify(typ)}, expected ${want}`);
  }
  trace?.('typ', true, typ === undefined ? 'no typ header' : `typ ${typ}`);
  return spec;
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && accepted.some((a) => aud.includes(a));
}

/**
 * RFC 7519 §4.1 and RFC 9068 §4 claim checks (times and lifetime in `lifetime.ts`); returns the
 * acceptance deadline (epoch ms).
 */
function checkClaims(p: Provider, claims: Claims, now: number, trace?: Tracer): number {
  if (claims.iss !== p.issuer) {
    trace?.('iss', false, `iss ${JSON.stringify(claims.iss)} is not ${p.issuer}`);
    throw tokenError(
      'GH_TOKEN_ISSUER',
      'token.issuer',
      `iss ${JSON.stringify(claims.iss)} is not the issuer of provider "${p.name}"`,
    );
  }
  trace?.('iss', true, `iss ${p.issuer} is provider "${p.name}"`);
  if (p.allowMissingAudience && claims.aud === undefined) {
    trace?.('aud', true, 'no aud claim, accepted because insecure_allow_missing_audience is on');
  } else if (p.audiences !== undefined) {
    if (!audienceMatches(claims.aud, p.audiences)) {
      trace?.('aud', false, `aud ${JSON.stringify(claims.aud)} contains none of ${p.audiences.join(', ')}`);
      throw tokenError(
        'GH_TOKEN_AUDIENCE',
        'token.audience',
        `aud ${JSON.stringify(claims.aud)} not accepted by provider "${p.name}"`,
      );
    }
    trace?.('aud', true, `aud matches ${p.audiences.join(', ')}`);
  } else trace?.('aud', true, 'audience not checked (insecure_allow_missing_audience)');
  const deadline = checkTimes(p, readTimes(claims, trace), now, true, trace);
  if (p.rejectIdTokens) {
    const aud = claims.aud;
    const toLogin =
      p.loginClientIds.size > 0 &&
      (typeof aud === 'string'
        ? p.loginClientIds.has(aud)
        : Array.isArray(aud) && aud.some((a) => p.loginClientIds.has(a as string)));
    if (claims.nonce !== undefined || (toLogin && claims.scp === undefined && claims.scope === undefined)) {
      const why =
        claims.nonce !== undefined ? 'it has a nonce' : 'its audience is a login client and it has no scope';
      trace?.('id_token', false, `looks like an ID token: ${why}`);
      throw tokenError('GH_TOKEN_TYPE', 'token.id_token', `ID token presented as access token (${why})`);
    }
    trace?.('id_token', true, 'not an ID token');
  }
  return deadline;
}

function withKey(
  p: Provider,
  spec: AlgSpec,
  entry: KeyEntry,
  jws: ParsedJws,
  now: number,
  trace?: Tracer,
): VerifiedJwt {
  if (!entry.key) {
    trace?.('key', false, `key ${entry.kid ?? '(no kid)'} is unusable: ${entry.problem ?? 'not importable'}`);
    throw tokenError(
      'GH_TOKEN_INVALID',
      'token.key_unusable',
      `key ${entry.kid ?? '(no kid)'} unusable: ${entry.problem ?? ''}`,
    );
  }
  trace?.('key', true, `key ${entry.kid ?? '(no kid)'} of provider "${p.name}"`);
  if (!verifySignature(spec, entry.key, jws.signingInput, jws.signature)) {
    trace?.('signature', false, `${spec.alg} signature does not verify with key ${entry.kid ?? '(no kid)'}`);
    throw tokenError(
      'GH_TOKEN_INVALID',
      'token.signature',
      `${spec.alg} signature invalid (provider "${p.name}")`,
    );
  }
  trace?.('signature', true, `${spec.alg} signature verified`);
  return { provider: p, claims: jws.claims, key: entry, deadlineMs: checkClaims(p, jws.claims, now, trace) };
}

function unknownKid(p: Provider, kid: unknown, why: string, trace?: Tracer): never {
  trace?.('key', false, `no key ${JSON.stringify(kid)} for this algorithm in provider "${p.name}" (${why})`);
  throw tokenError(
    'GH_TOKEN_INVALID',
    'token.kid_unknown',
    `kid ${JSON.stringify(kid)} unknown to provider "${p.name}" (${why})`,
  );
}

function lookup(
  p: Provider,
  spec: AlgSpec,
  jws: ParsedJws,
  now: number,
  refetched: boolean,
  trace?: Tracer,
): VerifiedJwt | Promise<VerifiedJwt> {
  const keys = p.keys;
  if (!keys) return unknownKid(p, jws.header.kid, 'the provider has no JWKS', trace);
  if (!keys.usable()) {
    if (refetched || !keys.canRefetch()) {
      trace?.(
        'keys',
        false,
        `keys of provider "${p.name}" are ${keys.loaded ? 'stale' : 'not loaded'}: ${keys.lastError ?? 'IdP unreachable'}`,
      );
      throw idpUnavailable(
        p.name,
        `JWKS ${keys.loaded ? 'stale beyond jwks_stale' : 'not loaded'}: ${keys.lastError ?? 'refetch in cooldown'}`,
      );
    }
    return keys.refresh().then(() => lookup(p, spec, jws, now, true, trace));
  }
  const sel = keys.select(spec.alg, jws.header.kid);
  if (sel.kind === 'one') return withKey(p, spec, sel.entry, jws, now, trace);
  if (sel.kind === 'many') {
    trace?.('key', false, `${sel.count} keys fit and the token names no distinguishing kid`);
    throw tokenError('GH_TOKEN_INVALID', 'token.key_ambiguous', `${sel.count} keys match`);
  }
  const kid = jws.header.kid;
  if (refetched) {
    if (keys.lastError) throw idpUnavailable(p.name, `unknown kid and ${keys.lastError}`);
    return unknownKid(p, kid, 'not in the JWKS after a refetch', trace);
  }
  if (kid !== undefined && typeof kid !== 'string') return unknownKid(p, kid, 'kid is not a string', trace);
  if (!keys.canRefetch()) return unknownKid(p, kid, 'refetch suppressed by jwks_cooldown', trace);
  return keys.refresh().then(() => lookup(p, spec, jws, now, true, trace));
}

/**
 * Verifies a parsed compact JWS for one provider (the one its unverified `iss` named): header
 * policy, key from the provider's own JWKS (or its shared secret for HS*), signature with
 * node:crypto, then claims. Synchronous unless keys must be (re)fetched.
 */
export function verifyJwt(
  p: Provider,
  jws: ParsedJws,
  now: number,
  trace?: Tracer,
): VerifiedJwt | Promise<VerifiedJwt> {
  const spec = checkHeader(p, jws.header, trace);
  if (spec.kty !== 'oct') return lookup(p, spec, jws, now, false, trace);
  if (!verifyHmac(spec, p.hmacSecret as Buffer, jws.signingInput, jws.signature)) {
    trace?.('signature', false, `${spec.alg} HMAC does not verify with the provider shared_secret`);
    throw tokenError(
      'GH_TOKEN_INVALID',
      'token.signature',
      `${spec.alg} signature invalid (provider "${p.name}")`,
    );
  }
  trace?.('signature', true, `${spec.alg} HMAC verified with the provider shared_secret`);
  return {
    provider: p,
    claims: jws.claims,
    key: undefined,
    deadlineMs: checkClaims(p, jws.claims, now, trace),
  };
}
