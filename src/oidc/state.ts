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
  async create(returnTo: string): Promise<NewAttempt> {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const codeChallenge = await oidc.calculatePKCECodeChallenge(verifier);
    const cookieValue = await this.#keys.seal(
      { s: state, n: nonce, v: verifier, r: returnTo },
      PURPOSE,
      STATE_TTL_SECONDS,
    );
    return {
      state,
      nonce,
      verifier,
      returnTo,
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
    return { state: p.s, nonce: p.n, verifier: p.v, returnTo: p.r };
  }
}

/** Short, non-reversible id of a state value (cookie name suffix and used-state key). */
export function stateId(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 22);
}
