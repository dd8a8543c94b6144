import type { Logger } from 'pino';

/** A demo user of the embedded provider. */
export interface DevUser {
  id: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
  roles?: string[];
  /** Demo second factor: a login form submitted with this one-time code is MFA (acr/amr below). */
  otp?: string;
}

/** `acr` of a dev login with password only, and with the demo one-time code (step-up demos). */
export const DEV_ACR_PWD = 'urn:gatehouse:dev:pwd';
export const DEV_ACR_MFA = 'urn:gatehouse:dev:mfa';

/** A relying party registered with the embedded provider. */
export interface DevProviderClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  /** Default `client_secret_post` (openid-client's default). */
  token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic';
}

export interface DevProviderOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  clients: DevProviderClient[];
  /** Default: the demo users (`DEMO_USERS` in provider.ts). */
  users?: DevUser[];
  /** Access token lifetime in seconds (default 600). */
  accessTokenTtl?: number;
  /** ID token lifetime in seconds (default 600). */
  idTokenTtl?: number;
  /** Issue (rotating) refresh tokens on every code exchange (default true). */
  refreshTokens?: boolean;
  /** Where the provider logs; defaults to the console. */
  logger?: Pick<Logger, 'warn' | 'info' | 'error'>;
}

export interface DevProvider {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  port: number;
  users: readonly DevUser[];
  close(): Promise<void>;
  /**
   * Sends an OpenID Connect Back-Channel Logout 1.0 `logout_token` for `sub` (and `sid`, when
   * given) to every client with a `backchannel_logout_uri`. Rejects if a client did not answer
   * 200/204.
   */
  backchannelLogout(sub: string, sid?: string): Promise<void>;
}
