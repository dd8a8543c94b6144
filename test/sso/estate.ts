/**
 * A multi-host estate for the SSO tests: the embedded OpenID provider, a recording upstream and
 * one or more Gatehouse instances serving `login.localhost` (the login host), `intranet.localhost`
 * and `payroll.localhost` (app hosts) on loopback, plus a scripted browser whose connections to
 * `*.localhost` go to 127.0.0.1 on the port of the instance it is told to use (a load balancer
 * in one variable), with host-only cookie jars per `host:port`.
 */
import { buildConnector, Agent, request } from 'undici';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

export const CLIENT_ID = 'gatehouse-sso-test';
export const CLIENT_SECRET = 'sso-test-client-secret-0123456789abcdef';
export const SECRET = 'sso-test-session-secret-0123456789abcdef-0123456789';
export const COOKIE = 'gatehouse_session';
/** An app host under another parent domain than the `*.localhost` ones. */
export const PARTNER_HOST = 'portal.partner-apps.test';
const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

export interface Estate {
  readonly idp: DevProvider;
  readonly upstream: RecordingUpstream;
  readonly gateways: readonly TestGateway[];
  /** The public port every origin carries (the first instance's port). */
  readonly port: number;
  readonly login: string;
  readonly intranet: string;
  readonly payroll: string;
  /** The app host under another parent domain. */
  readonly partner: string;
  close(): Promise<void>;
}

/** The Gatehouse config of the estate (identical on every instance). */
export function estateConfig(
  port: number,
  listen: number,
  issuer: string,
  upstream: string,
  session: object = {},
  handoffTtl?: string,
  server: object = {},
) {
  const host = (h: string) => `http://${h}.localhost:${port}`;
  const route = (h: string) => ({
    name: h,
    match: { host: `${h}.localhost`, path: '/' },
    upstream: 'app',
    auth: 'session',
    allow: 'authenticated',
    identity: { headers: 'oauth2-proxy' },
  });
  return {
    server: { listeners: [{ address: '127.0.0.1', port: listen }], external_url: host('login'), ...server },
    log: { level: 'info', access_log: false },
    providers: { dev: { issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] } },
    session: {
      secrets: ['${TEST_SESSION_SECRET}'],
      insecure_http_cookies: true,
      sso: {
        hosts: [host('intranet'), host('payroll'), `http://${PARTNER_HOST}:${port}`],
        ...(handoffTtl === undefined ? {} : { handoff_ttl: handoffTtl }),
      },
      ...session,
      login: {
        provider: 'dev',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
        insecure_allow_http: true,
      },
    },
    upstreams: { app: { url: upstream } },
    routes: [
      route('intranet'),
      // Step-up on an app host: a sign-in at most 3 s old (session.max_auth_age).
      {
        ...route('payroll'),
        name: 'payroll-secure',
        match: { host: 'payroll.localhost', path: '/secure' },
        session: { max_auth_age: '3s' },
      },
      route('payroll'),
      route('login'),
      { ...route('partner'), match: { host: PARTNER_HOST, path: '/' } },
    ],
  };
}

/** Starts the provider, the upstream and `instances` Gatehouse instances sharing one config. */
export async function startEstate(
  opts: { instances?: number; session?: object; handoffTtl?: string; server?: object } = {},
): Promise<Estate> {
  const ports: number[] = [];
  for (let i = 0; i < (opts.instances ?? 1); i++) ports.push(await freePort());
  const port = ports[0] as number;
  const login = `http://login.localhost:${port}`;
  const upstream = await startUpstream();
  const idp = await startDevProvider({
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${login}/.gatehouse/callback`],
        post_logout_redirect_uris: [`${login}/.gatehouse/signed-out`],
        backchannel_logout_uri: `http://127.0.0.1:${port}/.gatehouse/backchannel-logout`,
      },
    ],
    logger: quiet,
  });
  const gateways: TestGateway[] = [];
  try {
    for (const p of ports)
      gateways.push(
        await startGatehouse(
          estateConfig(port, p, idp.issuer, upstream.url, opts.session, opts.handoffTtl, opts.server),
          {
            env: { TEST_SESSION_SECRET: SECRET },
          },
        ),
      );
  } catch (e) {
    for (const g of gateways) await g.close();
    await upstream.close();
    await idp.close();
    throw e;
  }
  return {
    idp,
    upstream,
    gateways,
    port,
    login,
    intranet: `http://intranet.localhost:${port}`,
    payroll: `http://payroll.localhost:${port}`,
    partner: `http://${PARTNER_HOST}:${port}`,
    async close() {
      for (const g of gateways) await g.close();
      await upstream.close();
      await idp.close();
    },
  };
}

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly chain: readonly string[];
}

const NAV = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate' };

/**
 * A scripted browser: host-only cookie jars per `host:port`, manual redirects, every requested
 * URL logged (to count authorization requests at the IdP). `instancePort` picks the Gatehouse
 * instance its `*.localhost` connections reach.
 */
export class EstateBrowser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly requested: string[] = [];
  instancePort: number | undefined;
  /** One connection pool per instance port: a kept-alive connection never crosses instances. */
  readonly #agents = new Map<number | undefined, Agent>();

  constructor(instancePort?: number) {
    this.instancePort = instancePort;
  }

  #agent(): Agent {
    const port = this.instancePort;
    let a = this.#agents.get(port);
    if (a === undefined) {
      const connect = buildConnector({});
      a = new Agent({
        connect: (o, cb) =>
          o.hostname.endsWith('.localhost') || o.hostname.endsWith('.test')
            ? connect({ ...o, hostname: '127.0.0.1', port: String(port ?? o.port) }, cb)
            : connect(o, cb),
      });
      this.#agents.set(port, a);
    }
    return a;
  }

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let m = this.jar.get(host);
    if (m === undefined) this.jar.set(host, (m = new Map()));
    return m;
  }

  /** Authorization requests (`/auth?…`, not the `/auth/<uid>` resume after the form) sent to `issuer` so far. */
  authRequests(issuer: string): number {
    return this.requested.filter((u) => u.startsWith(`${issuer}/auth?`)).length;
  }

  async send(
    url: string,
    o: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Page> {
    const jar = this.cookies(url);
    const headers: Record<string, string> = { ...NAV, ...o.headers };
    const host = new URL(url).hostname;
    const all = [...jar];
    for (const [key, dj] of this.jar)
      if (key.startsWith('domain=') && (host === key.slice(7) || host.endsWith(`.${key.slice(7)}`)))
        all.push(...dj);
    if (all.length > 0 && headers.cookie === undefined)
      headers.cookie = all.map(([k, v]) => `${k}=${v}`).join('; ');
    this.requested.push(url);
    const res = await request(url, {
      method: (o.method ?? 'GET') as 'GET',
      headers,
      body: o.body,
      dispatcher: this.#agent(),
    });
    const body = await res.body.text();
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers))
      for (const one of Array.isArray(v) ? v : [v]) {
        if (one === undefined) continue;
        h.append(k, one);
        if (k === 'set-cookie') this.#store(this.#jarFor(url, one), one);
      }
    return { url, status: res.statusCode, headers: h, body, chain: [url] };
  }

  /** The host-only jar of `url`, or the jar of the cookie's `Domain` attribute (RFC 6265 §5.3). */
  #jarFor(url: string, sc: string): Map<string, string> {
    const domain = /;\s*domain=\.?([^;]+)/i.exec(sc)?.[1]?.trim().toLowerCase();
    if (domain === undefined) return this.cookies(url);
    let m = this.jar.get(`domain=${domain}`);
    if (m === undefined) this.jar.set(`domain=${domain}`, (m = new Map()));
    return m;
  }

  #store(jar: Map<string, string>, sc: string): void {
    const [pair = '', ...attrs] = sc.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const maxAge = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('max-age='));
    if (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1).trim());
  }

  /** Follows redirects; stops (status 0, not requested) before the first URL `stopBefore` matches. */
  async navigate(
    url: string,
    stopBefore?: (u: string) => boolean,
    headers?: Record<string, string>,
  ): Promise<Page> {
    const chain: string[] = [];
    let current = url;
    for (let i = 0; i < 20; i++) {
      if (i > 0 && stopBefore?.(current))
        return { url: current, status: 0, headers: new Headers(), body: '', chain };
      chain.push(current);
      const page = await this.send(current, { headers });
      const loc = page.headers.get('location');
      if (page.status >= 300 && page.status < 400 && loc !== null) {
        current = new URL(loc, current).href;
        continue;
      }
      return { ...page, chain };
    }
    throw new Error(`too many redirects from ${url}: ${chain.join(' -> ')}`);
  }

  /** Navigates to `url`, signs in at the IdP's form when it shows, follows back; returns the final page. */
  async signIn(url: string, user: string, stopBefore?: (u: string) => boolean): Promise<Page> {
    const form = await this.navigate(url);
    const action = /<form[^>]*action="([^"]+)"/.exec(form.body)?.[1];
    if (action === undefined)
      throw new Error(`no login form at ${form.url} (${form.status}): ${form.body.slice(0, 300)}`);
    const target = new URL(action.replaceAll('&amp;', '&'), form.url).href;
    const first = await this.send(target, {
      method: 'POST',
      body: new URLSearchParams({ login: user, password: `${user}-dev-password` }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const loc = first.headers.get('location');
    if (loc === null) throw new Error(`login form answered ${first.status}: ${first.body.slice(0, 300)}`);
    const rest = await this.navigate(new URL(loc, target).href, stopBefore);
    return { ...rest, chain: [...form.chain, target, ...rest.chain] };
  }

  async close(): Promise<void> {
    for (const a of this.#agents.values()) await a.close();
  }
}

/** True for a handoff redemption URL. */
export const isHandoff = (u: string): boolean => u.includes('/.gatehouse/sso/handoff?');
