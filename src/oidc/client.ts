import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { GatehouseError } from '../errors/index.js';

/** What the relying party needs to know about its identity provider and its own registration. */
export interface OidcClientOptions {
  /** Configured provider name (for logs). */
  readonly provider: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Allow plain-http IdP endpoints (dev provider only); logged at warn when set. */
  readonly allowHttp: boolean;
  /** Seconds for each request to the IdP. */
  readonly timeoutSeconds: number;
  /**
   * `fetch` for every call to the IdP (discovery, token, userinfo): the provider's proxy and CA
   * settings (`src/net/outbound.ts`). Default: the global fetch (no proxy).
   */
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/** Tokens from a code exchange or refresh, reduced to what a session keeps. */
export interface TokenSet {
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
  /** Epoch ms when the access token expires, when the IdP said. */
  readonly accessExpiresAt: number | undefined;
  /** Validated ID token claims, when an ID token came back. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
}

const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60_000;

/**
 * One OpenID Connect relying party (openid-client v6): discovery once at start (retried in the
 * background while the IdP is down), then code exchange, refresh, userinfo and end-session URLs.
 * Every failure is mapped to a GatehouseError with a `GH_LOGIN_*` code.
 */
export class OidcClient {
  readonly #opts: OidcClientOptions;
  readonly #logger: Logger;
  #config: oidc.Configuration | undefined;
  #pending: Promise<oidc.Configuration> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: OidcClientOptions, logger: Logger) {
    this.#opts = opts;
    this.#logger = logger;
  }

  get issuer(): string {
    return this.#opts.issuer;
  }

  get clientId(): string {
    return this.#opts.clientId;
  }

  /** Discovered metadata, or undefined before discovery succeeded. */
  get metadata(): Readonly<oidc.ServerMetadata> | undefined {
    return this.#config?.serverMetadata();
  }

  /**
   * First discovery attempt. Never rejects: while the IdP is unreachable, discovery is retried
   * with backoff and logins answer `GH_LOGIN_IDP_UNAVAILABLE`; existing sessions keep working.
   */
  async start(): Promise<void> {
    if (this.#opts.allowHttp) {
      this.#logger.warn(
        { provider: this.#opts.provider, issuer: this.#opts.issuer },
        `INSECURE: providers.${this.#opts.provider}.insecure_allow_http is on: login requests to the identity provider may use plain http`,
      );
    }
    try {
      await this.#discover();
    } catch (e) {
      this.#scheduleRetry(RETRY_MIN_MS, e);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** The discovered configuration, discovering now if needed. */
  async config(): Promise<oidc.Configuration> {
    if (this.#config) return this.#config;
    try {
      return await this.#discover();
    } catch (e) {
      throw toGatehouseError(e, 'discovery');
    }
  }

  #discover(): Promise<oidc.Configuration> {
    this.#pending ??= (async () => {
      const o = this.#opts;
      const metadata: Partial<oidc.ClientMetadata> = { token_endpoint_auth_method: o.authMethod };
      if (o.clientSecret !== undefined) metadata.client_secret = o.clientSecret;
      const auth =
        o.authMethod === 'none'
          ? oidc.None()
          : o.authMethod === 'client_secret_post'
            ? oidc.ClientSecretPost(o.clientSecret)
            : oidc.ClientSecretBasic(o.clientSecret);
      const cfg = await oidc.discovery(new URL(o.issuer), o.clientId, metadata, auth, {
        // ID token signatures are verified too (not only trusted through TLS): OIDC Core §3.1.3.7.
        execute: o.allowHttp
          ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks]
          : [oidc.enableNonRepudiationChecks],
        timeout: o.timeoutSeconds,
        ...(o.fetch ? { [oidc.customFetch]: o.fetch } : {}),
      });
      cfg.timeout = o.timeoutSeconds;
      this.#config = cfg;
      this.#logger.info({ provider: o.provider, issuer: o.issuer }, 'OpenID Connect discovery complete');
      return cfg;
    })().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #scheduleRetry(delay: number, err: unknown): void {
    if (this.#closed || this.#config) return;
    this.#logger.error(
      { provider: this.#opts.provider, issuer: this.#opts.issuer, err: describe(err), retry_in_ms: delay },
      'OpenID Connect discovery failed; sign-in is unavailable until it succeeds',
    );
    this.#timer = setTimeout(() => {
      this.#discover().catch((e: unknown) => this.#scheduleRetry(Math.min(delay * 2, RETRY_MAX_MS), e));
    }, delay);
    this.#timer.unref();
  }

  /** The authorization request URL (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3). */
  async authorizationUrl(params: Record<string, string>): Promise<URL> {
    const cfg = await this.config();
    return oidc.buildAuthorizationUrl(cfg, params);
  }

  /**
   * Validates the authorization response in `callbackUrl` and redeems the code: state, PKCE
   * verifier, nonce, the ID token's iss/aud/exp/signature and RFC 9207 `iss` are all checked by
   * openid-client.
   */
  async exchangeCode(
    callbackUrl: URL,
    checks: { state: string; nonce: string; verifier: string },
  ): Promise<TokenSet> {
    const cfg = await this.config();
    try {
      const res = await oidc.authorizationCodeGrant(cfg, callbackUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      return tokenSet(res);
    } catch (e) {
      throw toGatehouseError(e, 'code exchange');
    }
  }

  /** Refresh token grant (RFC 6749 §6). */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const cfg = await this.config();
    try {
      return tokenSet(await oidc.refreshTokenGrant(cfg, refreshToken));
    } catch (e) {
      throw toGatehouseError(e, 'refresh');
    }
  }

  /** Userinfo claims for `subject` (OIDC Core §5.3; the `sub` must match). */
  async userInfo(accessToken: string, subject: string): Promise<Record<string, unknown>> {
    const cfg = await this.config();
    try {
      return { ...(await oidc.fetchUserInfo(cfg, accessToken, subject)) };
    } catch (e) {
      throw toGatehouseError(e, 'userinfo');
    }
  }

  /** RP-initiated logout URL, or undefined when the IdP has no end_session_endpoint. */
  endSessionUrl(params: Record<string, string>): URL | undefined {
    const cfg = this.#config;
    if (!cfg || !cfg.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(cfg, params);
  }
}

function tokenSet(res: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): TokenSet {
  const expiresIn = res.expiresIn();
  const claims = res.claims();
  return {
    accessToken: res.access_token,
    refreshToken: res.refresh_token,
    idToken: res.id_token,
    accessExpiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
    claims: claims === undefined ? undefined : { ...claims },
  };
}

/** A short, credential-free description of an openid-client error for logs and audit. */
export function describe(e: unknown): string {
  if (e instanceof GatehouseError) return `${e.code}: ${e.detail ?? ''}`;
  if (e instanceof oidc.ResponseBodyError)
    return `${e.error}${e.error_description ? `: ${e.error_description}` : ''} (HTTP ${e.status})`;
  if (e instanceof oidc.AuthorizationResponseError)
    return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${e.message}${cause}`;
  }
  return String(e);
}

const TOKEN_INVALID_CODES = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_INVALID_REQUEST',
  'OAUTH_PARSE_ERROR',
]);

/** Seconds a client is told to wait (`Retry-After`) while the login provider is unreachable. */
export const IDP_RETRY_AFTER_S = 5;

/** `503 GH_LOGIN_IDP_UNAVAILABLE` with `Retry-After` (RFC 9110 §10.2.3): the IdP is retried in the background. */
export function idpUnavailable(detail: string, cause?: unknown): GatehouseError {
  return new GatehouseError('GH_LOGIN_IDP_UNAVAILABLE', detail, {
    cause,
    headers: { 'Retry-After': String(IDP_RETRY_AFTER_S) },
  });
}

/**
 * Maps an openid-client failure to a Gatehouse code: OAuth error bodies → code exchange failed,
 * validation failures (iss, aud, nonce, state, signature, timestamps) → ID token invalid,
 * network errors, timeouts and 5xx → IdP unavailable.
 */
export function toGatehouseError(e: unknown, during: string): GatehouseError {
  if (e instanceof GatehouseError) return e;
  const detail = `${during}: ${describe(e)}`;
  if (e instanceof oidc.ResponseBodyError) {
    if (e.status >= 500) return idpUnavailable(detail, e);
    return new GatehouseError('GH_LOGIN_CODE_EXCHANGE_FAILED', detail, {
      cause: e,
      reasons: ['GH_LOGIN_CODE_EXCHANGE_FAILED', `oauth.${e.error}`],
    });
  }
  if (e instanceof oidc.AuthorizationResponseError) {
    return new GatehouseError('GH_LOGIN_IDP_ERROR', detail, {
      cause: e,
      reasons: ['GH_LOGIN_IDP_ERROR', `oauth.${e.error}`],
    });
  }
  if (e instanceof oidc.WWWAuthenticateChallengeError) {
    return new GatehouseError('GH_LOGIN_CODE_EXCHANGE_FAILED', detail, { cause: e });
  }
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && TOKEN_INVALID_CODES.has(code)) {
    return new GatehouseError('GH_LOGIN_ID_TOKEN_INVALID', detail, { cause: e });
  }
  return idpUnavailable(detail, e);
}

/** True when a refresh failure means the grant is gone (end the session), not a transient blip. */
export function isGrantRejected(e: unknown): boolean {
  if (!(e instanceof GatehouseError)) return false;
  return e.code === 'GH_LOGIN_CODE_EXCHANGE_FAILED' || e.code === 'GH_LOGIN_ID_TOKEN_INVALID';
}
