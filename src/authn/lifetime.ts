import { tokenError } from './errors.js';
import type { Provider } from './provider.js';
import type { Tracer } from './trace.js';

/**
 * Latest NumericDate Gatehouse believes (9999-12-31T23:59:59Z). An `exp` beyond it is an
 * issuer bug (milliseconds instead of seconds) or an attack (`1e308`), never a real expiry.
 */
export const MAX_NUMERIC_DATE = 253_402_300_799;

/** The time claims of a token or introspection answer, in epoch seconds. */
export interface TimeClaims {
  readonly exp: number | undefined;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
}

function numericDate(
  claims: Readonly<Record<string, unknown>>,
  k: string,
  trace?: Tracer,
): number | undefined {
  const v = claims[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') {
    trace?.(k, false, `"${k}" is not a number`);
    throw tokenError('GH_TOKEN_INVALID', 'token.claim_type', `claim "${k}" must be a number`);
  }
  // RFC 7519 §2: NumericDate is seconds since the epoch; JSON cannot carry NaN or Infinity,
  // but 1e400 parses to Infinity and 1e308 is finite.
  if (!(v >= 0 && v <= MAX_NUMERIC_DATE)) {
    trace?.('lifetime', false, `"${k}" ${v} is not a plausible date in seconds (0 to 9999-12-31)`);
    throw tokenError('GH_TOKEN_LIFETIME', 'token.time_implausible', `claim "${k}" ${v} is implausible`);
  }
  return v;
}

/** Reads `exp`, `nbf` and `iat`: each absent or a plausible NumericDate. */
export function readTimes(claims: Readonly<Record<string, unknown>>, trace?: Tracer): TimeClaims {
  const iat = numericDate(claims, 'iat', trace);
  const nbf = numericDate(claims, 'nbf', trace);
  const exp = numericDate(claims, 'exp', trace);
  return { exp, nbf, iat };
}

/**
 * RFC 7519 §4.1.4–4.1.6 time checks with the provider's `clock_skew`, plus `max_token_lifetime`
 * and `max_token_age`. Shared by JWTs (`exp` required) and introspection answers (RFC 7662
 * §2.2: every time member is optional). Returns the epoch ms after which the token is no longer
 * acceptable (Infinity when it has neither `exp` nor a maximum age).
 */
export function checkTimes(
  p: Provider,
  t: TimeClaims,
  now: number,
  requireExp: boolean,
  trace?: Tracer,
): number {
  const { exp, nbf, iat } = t;
  const skew = p.skewSec;
  if (exp === undefined && requireExp) {
    trace?.('exp', false, 'no exp claim: access tokens must expire');
    throw tokenError('GH_TOKEN_INVALID', 'token.claim_missing', 'no exp claim');
  }
  if (nbf !== undefined && nbf > now + skew) {
    trace?.('nbf', false, `nbf is ${nbf - now}s in the future (clock skew ${skew}s)`);
    throw tokenError('GH_TOKEN_NOT_YET_VALID', 'token.not_yet_valid', `nbf ${nbf} > now ${now} + ${skew}`);
  }
  trace?.('nbf', true, nbf === undefined ? 'no nbf' : `nbf ${nbf} reached`);
  if (exp !== undefined) {
    if (exp <= now - skew) {
      trace?.('exp', false, `expired ${now - exp}s ago (clock skew ${skew}s)`);
      throw tokenError('GH_TOKEN_EXPIRED', 'token.expired', `exp ${exp} <= now ${now} - ${skew}`);
    }
    trace?.('exp', true, `expires in ${exp - now}s`);
  } else trace?.('exp', true, 'no exp in the introspection answer');
  if (iat !== undefined && iat > now + skew) {
    trace?.('iat', false, `iat is ${iat - now}s in the future (clock skew ${skew}s)`);
    throw tokenError('GH_TOKEN_NOT_YET_VALID', 'token.iat_future', `iat ${iat} > now ${now} + ${skew}`);
  }
  trace?.('iat', true, iat === undefined ? 'no iat' : `issued ${now - iat}s ago`);
  let deadline = exp === undefined ? Infinity : (exp + skew) * 1000;
  if (exp !== undefined) {
    // The validity period as issued; without iat or nbf, what is left of it must fit (the
    // skew allows for an IdP clock that runs ahead of ours).
    const from = iat ?? nbf;
    const lifetime = from === undefined ? exp - now - skew : exp - from;
    const what =
      from === undefined ? 'valid for another' : iat !== undefined ? 'exp - iat is' : 'exp - nbf is';
    if (lifetime > p.maxLifetimeSec) {
      trace?.('lifetime', false, `${what} ${lifetime}s; max_token_lifetime is ${p.maxLifetimeSec}s`);
      throw tokenError(
        'GH_TOKEN_LIFETIME',
        'token.lifetime_too_long',
        `${what} ${lifetime}s > max_token_lifetime ${p.maxLifetimeSec}s`,
      );
    }
    trace?.('lifetime', true, `${what} ${lifetime}s, within ${p.maxLifetimeSec}s`);
  }
  if (p.maxAgeSec !== undefined) {
    if (iat === undefined) {
      trace?.('max_age', false, 'max_token_age is set and the token has no iat');
      throw tokenError('GH_TOKEN_INVALID', 'token.claim_missing', 'no iat claim (max_token_age is set)');
    }
    if (now - iat - skew > p.maxAgeSec) {
      trace?.('max_age', false, `issued ${now - iat}s ago; max_token_age is ${p.maxAgeSec}s`);
      throw tokenError(
        'GH_TOKEN_EXPIRED',
        'token.too_old',
        `age ${now - iat}s > max_token_age ${p.maxAgeSec}s`,
      );
    }
    trace?.('max_age', true, `age ${now - iat}s within ${p.maxAgeSec}s`);
    deadline = Math.min(deadline, (iat + p.maxAgeSec + skew) * 1000);
  }
  return deadline;
}
