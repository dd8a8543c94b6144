/** How a principal was authenticated. */
export type AuthMethod = 'jwt' | 'introspection' | 'session' | 'mtls' | 'apikey';

/**
 * The verified identity behind a request, the same shape for every authenticator so one
 * policy applies to browsers, machines and agents alike.
 */
export interface Principal {
  /** `user` for people, `client` for machines (client-credentials tokens, API keys, certificates). */
  readonly kind: 'user' | 'client';
  readonly subject: string;
  readonly issuer?: string | undefined;
  /** Name of the configured provider (or `apikey`, `mtls`) that vouched for this principal. */
  readonly provider: string;
  readonly method: AuthMethod;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly clientId?: string | undefined;
  readonly tenant?: string | undefined;
  /** Expiry in epoch seconds, when the credential has one. */
  readonly expiresAt?: number | undefined;
  /** True when the IdP signalled that the group list is incomplete (Entra ID groups overage). */
  readonly groupsOverage?: boolean | undefined;
  /** Token `jti` or a short hash of the credential: never the credential itself. */
  readonly credentialId?: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}
