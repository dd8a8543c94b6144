import { GatehouseError, type ErrorCode } from '../errors/index.js';

/** `WWW-Authenticate` for a 401 without any token (RFC 6750 §3: no error code). */
export const BEARER_CHALLENGE = 'Bearer realm="gatehouse"';

/** Short, fixed `error_description` per reason: never derived from the token. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'token.malformed': 'The token is malformed',
  'token.too_large': 'The token is too large',
  'token.not_jwt': 'The token is not a JWT',
  'token.alg_not_allowed': 'The token algorithm is not allowed',
  'token.crit_unsupported': 'The token has unsupported critical headers',
  'token.header_untrusted_key': 'The token carries its own key reference',
  'token.kid_unknown': 'The token signing key is unknown',
  'token.key_ambiguous': 'The token signing key is ambiguous',
  'token.key_unusable': 'The token signing key is unusable',
  'token.signature': 'The token signature is invalid',
  'token.issuer': 'The token issuer is not trusted',
  'token.audience': 'The token audience is not accepted',
  'token.expired': 'The token expired',
  'token.too_old': 'The token is too old',
  'token.not_yet_valid': 'The token is not valid yet',
  'token.iat_future': 'The token was issued in the future',
  'token.claim_missing': 'The token lacks a required claim',
  'token.claim_type': 'The token has a claim of the wrong type',
  'token.typ': 'The token type is not accepted',
  'token.id_token': 'ID tokens are not accepted as access tokens',
  'token.inactive': 'The token is not active',
  'token.not_access_token': 'The token is not an access token',
  'token.time_implausible': 'The token carries an implausible time',
  'token.lifetime_too_long': 'The token lifetime is too long',
  'token.claim_blank': 'The token has a blank claim',
  'token.claim_control': 'The token has a claim with control characters',
  'token.cnf_unsupported': 'The token confirmation method is not supported',
  'token.dpop_bound': 'The token is bound to a DPoP key',
  'token.cert_missing': 'The token requires a client certificate',
  'token.cert_mismatch': 'The token is bound to another client certificate',
};

const challengeCache = new Map<string, Readonly<Record<string, string>>>();

function challengeFor(reason: string): Readonly<Record<string, string>> {
  let h = challengeCache.get(reason);
  if (!h) {
    const desc = DESCRIPTIONS[reason] ?? 'The token is invalid';
    h = Object.freeze({
      'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token", error_description="${desc}"`,
    });
    challengeCache.set(reason, h);
  }
  return h;
}

/**
 * A 401 for a presented token (RFC 6750 §3.1 `invalid_token`). `detail` goes to logs, audit and
 * `explain` only and must never contain the token.
 */
export function tokenError(code: ErrorCode, reason: string, detail: string): GatehouseError {
  return new GatehouseError(code, detail, { reasons: [reason], headers: { ...challengeFor(reason) } });
}

/** 400 for a request carrying more than one credential (RFC 6750 §2, §3.1 `invalid_request`). */
export function multipleTokensError(detail: string): GatehouseError {
  return new GatehouseError('GH_TOKEN_MULTIPLE', detail, {
    reasons: ['token.multiple'],
    headers: {
      'WWW-Authenticate':
        'Bearer realm="gatehouse", error="invalid_request", error_description="Use exactly one way to send the token"',
    },
  });
}

/**
 * 400 for an OAuth token in the query string of a route that does not read it from there
 * (RFC 6750 §5.3). `name` is the parameter name as sent: never its value.
 */
export function tokenInQueryError(name: string, bearer: boolean): GatehouseError {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return new GatehouseError('GH_TOKEN_IN_QUERY', `query parameter ${JSON.stringify(shown)} carries a token`, {
    reasons: ['token.in_query'],
    headers: bearer
      ? {
          'WWW-Authenticate':
            'Bearer realm="gatehouse", error="invalid_request", error_description="Do not send tokens in the URL"',
        }
      : undefined,
  });
}

/** 503 when the provider's outbound introspection budget is spent (`Retry-After` in whole seconds). */
export function idpThrottled(provider: string, retryAfterSec: number, detail: string): GatehouseError {
  return new GatehouseError('GH_IDP_THROTTLED', `provider "${provider}": ${detail}`, {
    reasons: ['idp.introspection_budget'],
    headers: { 'Retry-After': String(retryAfterSec) },
  });
}

/** 503 when keys or introspection are unavailable: fail closed, never 401-for-everyone. */
export function idpUnavailable(provider: string, detail: string): GatehouseError {
  return new GatehouseError('GH_IDP_UNAVAILABLE', `provider "${provider}": ${detail}`, {
    reasons: ['idp.unavailable'],
    headers: { 'Retry-After': '5' },
  });
}
