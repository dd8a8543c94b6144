import { dpopBound } from './binding.js';
import { tokenError } from './errors.js';
import type { IntrospectionResult } from './introspection.js';
import { checkTimes, readTimes } from './lifetime.js';
import type { Provider } from './provider.js';
import type { Tracer } from './trace.js';

/**
 * `token_type` values of an access token: RFC 6750 `Bearer` (what most servers answer), and the
 * RFC 8693 §3 identifiers. Compared case-insensitively.
 */
const ACCESS_TOKEN_TYPES: ReadonlySet<string> = new Set([
  'bearer',
  'access_token',
  'urn:ietf:params:oauth:token-type:access_token',
]);

/** Keycloak's `typ` of an access token (its refresh, offline and ID tokens say otherwise). */
const ACCESS_TYPS: ReadonlySet<string> = new Set(['bearer', 'jwt', 'at+jwt', 'application/at+jwt']);

function notAccessToken(member: string, value: unknown, trace?: Tracer): never {
  trace?.('token_type', false, `introspection ${member} ${JSON.stringify(value)} is not an access token`);
  throw tokenError(
    'GH_TOKEN_TYPE',
    'token.not_access_token',
    `introspection ${member} ${JSON.stringify(value)}`,
  );
}

/**
 * The answer must describe an access token. RFC 7662 §2.2 `token_type` is optional; when present
 * it must be `Bearer` or an access-token type identifier — a refresh token (`refresh_token`,
 * RFC 8693 `…:refresh_token`) or an ID token is refused, and `DPoP` (RFC 9449 §6.2) is a
 * DPoP-bound token. Keycloak answers with the token's own `typ` (`Refresh`, `Offline`, `ID`).
 */
function checkTokenType(r: Readonly<Record<string, unknown>>, trace?: Tracer): void {
  const tt = r.token_type;
  if (tt !== undefined) {
    if (typeof tt === 'string' && tt.toLowerCase() === 'dpop') {
      trace?.(
        'token_type',
        false,
        'introspection token_type DPoP: not usable as a bearer token (RFC 9449 §7.1)',
      );
      throw dpopBound('introspection token_type DPoP');
    }
    if (typeof tt !== 'string' || !ACCESS_TOKEN_TYPES.has(tt.toLowerCase()))
      notAccessToken('token_type', tt, trace);
  }
  const typ = r.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !ACCESS_TYPS.has(typ.toLowerCase())))
    notAccessToken('typ', typ, trace);
  trace?.(
    'token_type',
    true,
    tt === undefined && typ === undefined ? 'no token_type' : `access token (${String(tt ?? typ)})`,
  );
}

/**
 * Checks an active introspection answer for provider `p` with the rules a JWT gets: `iss` and
 * `aud` (each when present, `aud` required when the provider lists audiences), access-token type,
 * then `exp`/`nbf`/`iat` through {@link checkTimes} (plausible dates, skew, `max_token_lifetime`,
 * `max_token_age`; `exp` itself is optional in RFC 7662). Returns the claims to map: the answer
 * with the provider's issuer and, when `sub` is absent, the username or client (RFC 7662 §2.2).
 */
export function checkIntrospection(
  p: Provider,
  answer: NonNullable<IntrospectionResult>,
  now: number,
  trace?: Tracer,
): Record<string, unknown> {
  const r = answer;
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
  checkTokenType(r, trace);
  checkTimes(p, readTimes(r, trace), now, false, trace);
  return { iss: p.issuer, ...r, sub: r.sub ?? r.username ?? r.client_id };
}
