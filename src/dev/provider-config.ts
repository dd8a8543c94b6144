/**
 * The oidc-provider 9 configuration of the embedded development OpenID provider.
 * DEVELOPMENT AND TESTS ONLY: keys and cookie secrets are generated at every start.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { DevAdapterStore } from './provider-adapter.js';
import { logoutSource, postLogoutSuccessSource, renderError } from './provider-pages.js';
import { DEV_ACR_MFA, DEV_ACR_PWD, type DevProviderOptions, type DevUser } from './provider-types.js';

const generate = promisify(generateKeyPair);
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Code flow with PKCE required, the demo scopes and claims, RP-initiated and back-channel
 * logout, revocation, introspection and rotating refresh tokens; interactions are served by
 * Gatehouse's own login form (`devInteractions` off).
 */
export async function providerConfiguration(
  opts: DevProviderOptions,
  store: DevAdapterStore,
  users: ReadonlyMap<string, DevUser>,
): Promise<Record<string, unknown>> {
  const [rsaPair, ecPair] = await Promise.all([
    generate('rsa', { modulusLength: 2048 }),
    generate('ec', { namedCurve: 'P-256' }),
  ]);
  const rsa = rsaPair.privateKey.export({ format: 'jwk' });
  const ec = ecPair.privateKey.export({ format: 'jwk' });
  const refresh = opts.refreshTokens !== false;
  const accessTtl = opts.accessTokenTtl ?? 600;
  const idTtl = opts.idTokenTtl ?? 600;
  return {
    adapter: store.factory(),
    clients: opts.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
      response_types: ['code'],
      grant_types: refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_post',
      ...(c.backchannel_logout_uri === undefined
        ? {}
        : { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: true }),
    })),
    jwks: {
      keys: [
        { ...rsa, kid: `rs-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' },
        { ...ec, kid: `es-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' },
      ],
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    acrValues: [DEV_ACR_PWD, DEV_ACR_MFA],
    claims: {
      openid: ['sub', 'amr'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups', 'roles'],
      sid: null,
      auth_time: null,
      acr: null,
      iss: null,
    },
    // Code flow: put the user's claims in the ID token too, so Gatehouse can build the
    // principal without a userinfo round trip (OIDC Core §5.4 allows either).
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, sub: string) => {
      const u = users.get(sub);
      if (u === undefined) return undefined;
      return {
        accountId: u.id,
        claims: () => ({
          sub: u.id,
          name: u.name,
          email: u.email,
          email_verified: true,
          groups: [...u.groups],
          roles: [...(u.roles ?? [])],
        }),
      };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
    },
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      refresh && client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 60,
      IdToken: idTtl,
      RefreshToken: 24 * 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    renderError,
    clientBasedCORS: () => false,
    // oidc-provider blocks back-channel requests to special-use addresses (SSRF protection);
    // the development provider only talks to relying parties on loopback, so allow those.
    fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher, ...rest } = init;
      return LOOPBACK.has(new URL(url).hostname)
        ? fetch(url, rest)
        : fetch(url, { ...rest, dispatcher } as RequestInit);
    },
  };
}
