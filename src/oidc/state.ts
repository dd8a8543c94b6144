import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { KeyRing } from '../session/keyring.js';
import { GatehouseError } from '../errors/index.js';

/** Purpose bound into sealed login-state cookies (never accepted as anything else). */
const PURPOSE = 'gatehouse.login-state.v1';
/** A login attempt must complete within this time. */
export const STATE_TTL_SECONDS = 600;

/** Everything the callback needs from the request that started the login. */
export interface LoginAttempt {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Validated return-to target (same-origin path or allowed absolute URL). */
  readonly returnTo: string;
  /** The login (session.login name or session.logins key) this attempt signs in with. */
  readonly login?: string | undefined;
  /** Step-up the route asked for: checked against the returned ID token. */
  readonly stepUp?: StepUpRequest | undefined;
}

/** What a step-up login asked the IdP for (OIDC Core §3.1.2.1). */
export interface StepUpRequest {
  /** `max_age` sent (seconds): the ID token's `auth_time` must be at most this old. */
  readonly maxAge?: number | undefined;
  /** `acr_values` sent: the ID token's `acr` must be one of them. */
  readonly acr?: readonly string[] | undefined;
  /** The ID token's `amr` must contain all of these. */
  readonly amr?: readonly string[] | undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function stepUpOf(v: unknown): StepUpRequest | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  return {
    maxAge: typeof o.m === 'number' ? o.m : undefined,
    acr: strings(o.a),
    amr: strings(o.r),
  };
}

/** A freshly started login attempt: authorization request parameters and its cookie. */
export interface NewAttempt extends LoginAttempt {
  readonly codeChallenge: string;
  readonly cookieName: string;
  readonly cookieValue: string;
}

/**
 * Login state bound to the browser (RFC 6749 §10.12, RFC 9700 §4.7): each attempt gets its own
 * short-lived cookie named after a hash of its `state`, sealed (encrypted + authenticated) with
 * the key ring, so several tabs can sign in at once and nothing can be forged or read.
 */
export class LoginStateCodec {
  readonly #keys: KeyRing;
  readonly prefix: string;

  /** `prefix` is `__Host-gh-state-` on https, `gh-state-` otherwise. */
  constructor(keys: KeyRing, prefix: string) {
    this.#keys = keys;
    this.prefix = prefix;
  }

  /** Cookie name carrying the attempt with this `state`. */
  cookieName(state: string): string {
    return this.prefix + stateId(state);
  }

  /** Fresh state, nonce and PKCE verifier (S256), sealed into a cookie value. */
  async create(
    returnTo: string,
    extra: { login?: string | undefined; stepUp?: StepUpRequest | undefined } = {},
  ): Promise<NewAttempt> {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const codeChallenge = await oidc.calculatePKCECodeChallenge(verifier);
    const cookieValue = await this.#keys.seal(
      {
        s: state,
        n: nonce,
        v: verifier,
        r: returnTo,
        ...(extra.login !== undefined ? { l: extra.login } : {}),
        ...(extra.stepUp !== undefined
          ? { u: { m: extra.stepUp.maxAge, a: extra.stepUp.acr, r: extra.stepUp.amr } }
          : {}),
      },
      PURPOSE,
      STATE_TTL_SECONDS,
    );
    return {
      state,
      nonce,
      verifier,
      returnTo,
      login: extra.login,
      stepUp: extra.stepUp,
      codeChallenge,
      cookieName: this.cookieName(state),
      cookieValue,
    };
  }

  /**
   * Opens the attempt sealed in `cookieValue` and checks it belongs to `state`. Throws
   * `GH_LOGIN_STATE_INVALID` when the cookie was tampered with, expired, sealed by a retired
   * secret, or belongs to another attempt.
   */
  async open(cookieValue: string, state: string): Promise<LoginAttempt> {
    const p = await this.#keys.open(cookieValue, PURPOSE);
    if (
      !p ||
      typeof p.s !== 'string' ||
      typeof p.n !== 'string' ||
      typeof p.v !== 'string' ||
      typeof p.r !== 'string'
    ) {
      throw new GatehouseError(
        'GH_LOGIN_STATE_INVALID',
        'login state cookie does not open (tampered, expired or sealed with a retired secret)',
      );
    }
    if (p.s !== state)
      throw new GatehouseError(
        'GH_LOGIN_STATE_INVALID',
        'state parameter does not match the login state cookie',
      );
    return {
      state: p.s,
      nonce: p.n,
      verifier: p.v,
      returnTo: p.r,
      ...(typeof p.l === 'string' ? { login: p.l } : {}),
      ...(p.u !== undefined ? { stepUp: stepUpOf(p.u) } : {}),
    };
  }
}

/** Short, non-reversible id of a state value (cookie name suffix and used-state key). */
export function stateId(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 22);
}
