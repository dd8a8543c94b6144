import { startDevProvider, type DevProvider, type DevProviderOptions } from '../../src/dev/provider.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

/** A complete single-sign-on setup: dev provider, recording upstream, Gatehouse in front. */
export interface SsoFixture {
  readonly idp: DevProvider;
  readonly upstream: RecordingUpstream;
  readonly gw: TestGateway;
  /** Gatehouse base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly config: Record<string, unknown>;
  close(): Promise<void>;
}

export const CLIENT_ID = 'gatehouse-test';
export const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
export const SECRET = 'test-session-secret-0123456789abcdef-0123456789';
const quietLogger = { warn: () => undefined, info: () => undefined, error: () => undefined };

export interface FixtureOptions {
  /** Merged into the `session` section. */
  readonly session?: Record<string, unknown>;
  readonly idp?: Partial<DevProviderOptions>;
  /** Reuse a provider (second gateway instance on another port). */
  readonly sharedIdp?: DevProvider;
  /** Gatehouse port (default: a free one); must be registered at the provider. */
  readonly port?: number;
  /** Extra ports whose callback URIs the provider accepts. */
  readonly extraPorts?: readonly number[];
  /** Changes the Gatehouse config before start (routes, providers, more logins). */
  readonly edit?: (config: Record<string, unknown>) => void;
}

/** The demo routes: public `/public`, `/admin` for group admins, everything else for any signed-in user. */
export function routes(upstream: string): Record<string, unknown>[] {
  return [
    { name: 'public', match: { path: '/public' }, upstream, auth: 'none' },
    {
      name: 'admin',
      match: { path: '/admin' },
      upstream,
      auth: 'session',
      rules: [{ name: 'admins-only', effect: 'allow', when: { group: 'admins' } }],
      identity: { headers: 'oauth2-proxy' },
    },
    { name: 'api', match: { path: '/api' }, upstream, auth: ['bearer', 'session'], allow: 'authenticated' },
    {
      name: 'tokens',
      match: { path: '/with-tokens' },
      upstream,
      auth: 'session',
      allow: 'authenticated',
      identity: { forward_token: 'session', easy_auth: { provider_name: 'aad', include_tokens: true } },
    },
    {
      name: 'app',
      match: { path: '/' },
      upstream,
      auth: 'session',
      allow: 'authenticated',
      identity: { headers: 'oauth2-proxy' },
    },
  ];
}

/** Dev-provider client registration for Gatehouse instances on `ports`. */
export function clientFor(ports: readonly number[]): DevProviderOptions['clients'][number] {
  const first = ports[0] as number;
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: ports.map((p) => `http://127.0.0.1:${p}/.gatehouse/callback`),
    post_logout_redirect_uris: ports.flatMap((p) => [
      `http://127.0.0.1:${p}/`,
      `http://127.0.0.1:${p}/public/bye`,
    ]),
    backchannel_logout_uri: `http://127.0.0.1:${first}/.gatehouse/backchannel-logout`,
  };
}

/** Gatehouse config for the fixture. */
export function ssoConfig(
  port: number,
  issuer: string,
  upstream: string,
  session: Record<string, unknown> = {},
): Record<string, unknown> {
  const { login, ...rest } = session as { login?: Record<string, unknown> };
  return {
    server: { listeners: [{ address: '127.0.0.1', port }], external_url: `http://127.0.0.1:${port}` },
    log: { level: 'info', access_log: false },
    providers: { dev: { issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] } },
    session: {
      secrets: ['${TEST_SESSION_SECRET}'],
      insecure_http_cookies: true,
      ...rest,
      login: {
        provider: 'dev',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
        insecure_allow_http: true,
        ...login,
      },
    },
    upstreams: { app: { url: upstream } },
    routes: routes('app'),
  };
}

/** Starts provider, upstream and Gatehouse. */
export async function startSso(opts: FixtureOptions = {}): Promise<SsoFixture> {
  const port = opts.port ?? (await freePort());
  const upstream = await startUpstream();
  const idp =
    opts.sharedIdp ??
    (await startDevProvider({
      clients: [clientFor([port, ...(opts.extraPorts ?? [])])],
      logger: quietLogger,
      ...opts.idp,
    }));
  const config = ssoConfig(port, idp.issuer, upstream.url, opts.session);
  opts.edit?.(config);
  let gw: TestGateway;
  try {
    gw = await startGatehouse(config, { env: { TEST_SESSION_SECRET: SECRET } });
  } catch (e) {
    await upstream.close();
    if (!opts.sharedIdp) await idp.close();
    throw e;
  }
  return {
    idp,
    upstream,
    gw,
    url: gw.url,
    config,
    async close() {
      await gw.close();
      await upstream.close();
      if (!opts.sharedIdp) await idp.close();
    },
  };
}
