import { JWS_ALGORITHMS } from '../authn/schema.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { GatehouseError } from '../errors/index.js';

/** The event member a logout token must carry (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a verified logout token identifies: an IdP session (`sid`) and/or a user (`sub`). */
export interface LogoutTarget {
  readonly sid: string | undefined;
  readonly sub: string | undefined;
  readonly jti: string | undefined;
}

/** Signature algorithms accepted for logout tokens: asymmetric only, never `none`. */
const ALGORITHMS = JWS_ALGORITHMS.filter((a) => !a.startsWith('HS'));

/**
 * Verifies OpenID Connect Back-Channel Logout tokens (§2.6) against the IdP's JWKS (jose,
 * cached with a refetch cooldown): signature, `iss`, `aud` (our client id), `iat`, `exp` when
 * present, the back-channel `events` member, `sid` or `sub`, and no `nonce`.
 */
export class LogoutTokenVerifier {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    jwksUri: string,
    private readonly issuer: string,
    private readonly audience: string,
    timeoutMs: number,
  ) {
    this.#jwks = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: timeoutMs,
      cooldownDuration: 30_000,
    });
  }

  async verify(token: string): Promise<LogoutTarget> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['iat'],
        clockTolerance: 60,
        maxTokenAge: '10m',
      }));
    } catch (e) {
      throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', `logout token: ${(e as Error).message}`);
    }
    const events = payload.events;
    if (events === null || typeof events !== 'object' || Array.isArray(events)) {
      throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', 'logout token without an events claim');
    }
    const ev = (events as Record<string, unknown>)[BACKCHANNEL_EVENT];
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) {
      throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', `events claim lacks ${BACKCHANNEL_EVENT}`);
    }
    // §2.4: a nonce is prohibited, so an ID token can never be used as a logout token.
    if (payload.nonce !== undefined)
      throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', 'logout token contains a nonce');
    const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
    if (sid === undefined && sub === undefined)
      throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', 'logout token has neither sid nor sub');
    return { sid, sub, jti: typeof payload.jti === 'string' ? payload.jti : undefined };
  }
}
