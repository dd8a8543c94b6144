import { request } from 'undici';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { shared } from './candidate.js';
import { GATE_PATH, launchGatehouse } from './cand-core.js';
import { IDENTITY_HEADERS } from './cand-bearer.js';
import { benchRedis } from './cand-limits.js';
import { expectStatus, httpGet } from './http.js';
import { UPSTREAM_BODY } from './nginx.js';
import { EstateBrowser } from '../../test/sso/estate.js';

export const CLIENT_ID = 'gatehouse-bench';
export const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef';
export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef-0123456789';
const COOKIE = 'gatehouse_session';
/**
 * The redirect URI's origin. The scripted sign-in below sends the callback to the candidate's
 * real port, so the provider can be registered before any Gatehouse port is known.
 */
const EXTERNAL = 'http://127.0.0.1:9';
/**
 * The multi-host row's login host and app host (`session.sso`): names a load balancer on port 9
 * would serve; the runner connects to the candidate's real port and sends these as `Host`.
 */
const SSO_LOGIN = 'http://login.localhost:9';
const SSO_APP = 'http://app.localhost:9';

/** The embedded OpenID provider, in the runner process: hit only while signing in. */
export function benchOp(ctx: BenchContext): Promise<DevProvider> {
  return shared(ctx, 'dev-op', async () => {
    const op = await startDevProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`${EXTERNAL}/.gatehouse/callback`, `${SSO_LOGIN}/.gatehouse/callback`],
        },
      ],
      accessTokenTtl: 3600,
      idTokenTtl: 3600,
      logger: { warn: () => undefined, info: () => undefined, error: () => undefined },
    });
    ctx.cleanup(() => op.close());
    return op;
  });
}

/**
 * Signs `user` in through the real pages (Gatehouse → provider login form → callback) with a
 * tiny cookie jar per origin; returns the session id of the cookie Gatehouse set.
 */
export async function signIn(gh: string, user: string): Promise<string> {
  const jars = new Map<string, Map<string, string>>();
  let url = `${gh}/bench`;
  let method = 'GET';
  let body: string | undefined;
  for (let i = 0; i < 20; i++) {
    const u = new URL(url);
    const target = u.origin === EXTERNAL ? `${gh}${u.pathname}${u.search}` : url;
    const origin = new URL(target).origin;
    const jar = jars.get(origin) ?? new Map<string, string>();
    jars.set(origin, jar);
    const headers: Record<string, string> = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await request(target, { method: method as 'GET', headers, body });
    const text = await res.body.text();
    const set = res.headers['set-cookie'];
    for (const sc of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
      const pair = sc.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const session = origin === gh ? jar.get(COOKIE) : undefined;
    if (session) return session;
    const loc = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof loc === 'string') {
      url = new URL(loc, target).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(text)?.[1];
    if (res.statusCode !== 200 || action === undefined)
      throw new Error(`session sign-in: ${res.statusCode} at ${target}: ${text.slice(0, 200)}`);
    url = new URL(action.replaceAll('&amp;', '&'), target).href;
    method = 'POST';
    body = new URLSearchParams({ login: user, password: `${user}-dev-password` }).toString();
  }
  throw new Error('session sign-in: too many steps');
}

/**
 * Signs alice in on the app host through the login host and the handoff (connections to
 * `*.localhost:9` go to the candidate's port); returns the app host's own session id.
 */
async function signInOnAppHost(port: number): Promise<string> {
  const b = new EstateBrowser(port);
  try {
    const page = await b.signIn(`${SSO_APP}/bench`, 'alice');
    const id = b.cookies(SSO_APP).get(COOKIE);
    if (page.status !== 200 || id === undefined)
      throw new Error(`sso sign-in: ${page.status} after ${page.chain.join(' -> ')}`);
    return id;
  } finally {
    await b.close();
  }
}

/** The correctness gate: no cookie 401, an unknown cookie 401, the live one 200 with identity. */
async function gateSession(id: string, url: string, cookie: string, host?: string): Promise<void> {
  const json = { accept: 'application/json', ...(host ? { host } : {}) };
  expectStatus(`${id}: GET /bench without a session`, await httpGet(`${url}/bench`, json), 401);
  expectStatus(
    `${id}: GET /bench with an unknown session id`,
    await httpGet(`${url}/bench`, { ...json, cookie: `${COOKIE}=${'A'.repeat(43)}` }),
    401,
  );
  const ok = await httpGet(`${url}/bench`, { cookie, ...(host ? { host } : {}) });
  expectStatus(`${id}: GET /bench with the session cookie`, ok, 200);
  if (ok.body !== UPSTREAM_BODY) throw new Error(`${id}: body differs from the upstream's`);
  const echo = await httpGet(`${url}${GATE_PATH}/x`, {
    cookie: `${cookie}; app=1`,
    'x-auth-user': 'forged',
    ...(host ? { host } : {}),
  });
  expectStatus(`${id}: GET ${GATE_PATH} with the session cookie`, echo, 200);
  const got = (JSON.parse(echo.body) as { headers: Record<string, unknown> }).headers;
  if (got['x-auth-user'] !== 'alice' || got['x-auth-groups'] !== 'staff,admins' || got.cookie !== 'app=1')
    throw new Error(`${id}: the upstream received ${JSON.stringify(got)}`);
}

/** A browser-session candidate: warm session cookie, group rule, 3 identity headers, audit. */
function sessionCandidate(id: string, label: string, store: 'memory' | 'redis', sso = false): Candidate {
  return {
    id,
    label,
    relativeTo: sso ? 'gh-session-redis' : store === 'redis' ? 'gh-session-memory' : 'gh-rs256-warm',
    floors: [
      { kind: 'ratio', min: store === 'redis' ? 0.3 : 0.4, source: 'issue 13' },
      // Issue 19: the browser path within 10 % of the bearer path, whichever store.
      ...(sso ? [] : [{ kind: 'relative', to: 'gh-rs256-warm', min: 0.9, source: 'issue 19' } as const]),
    ],
    async start(ctx): Promise<RunningCandidate> {
      const op = await benchOp(ctx);
      const redis = store === 'redis' ? await benchRedis(ctx) : undefined;
      const route = { auth: 'session', policy: 'staff', identity: { headers: IDENTITY_HEADERS } };
      const top = {
        providers: { dev: { issuer: op.issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] } },
        policies: { staff: { rules: [{ name: 'staff', effect: 'allow', when: { group: 'staff' } }] } },
        session: {
          secrets: [SESSION_SECRET],
          insecure_http_cookies: true,
          ...(redis ? { store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}` } } : {}),
          ...(sso ? { sso: { hosts: [SSO_APP] } } : {}),
          login: {
            provider: 'dev',
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            scopes: ['openid', 'profile', 'email', 'groups'],
            insecure_allow_http: true,
          },
        },
      };
      const { gh, logFiles } = await launchGatehouse(ctx, id, {
        route,
        top,
        server: { external_url: sso ? SSO_LOGIN : EXTERNAL },
        audit: true,
      });
      try {
        const host = sso ? new URL(SSO_APP).host : undefined;
        const cookie = `${COOKIE}=${sso ? await signInOnAppHost(gh.port) : await signIn(gh.url, 'alice')}`;
        await gateSession(id, gh.url, cookie, host);
        return {
          pid: gh.pid,
          extraPids: redis ? [redis.pid] : undefined,
          load: { url: `${gh.url}/bench`, cookie, host },
          logFiles,
          stop: () => gh.stop(),
        };
      } catch (e) {
        await gh.stop();
        throw e;
      }
    },
  };
}

/** Issue 13: the browser-session path with a warm session (memory and Redis stores). */
export const sessionMemory = sessionCandidate(
  'gh-session-memory',
  'browser session cookie, warm (memory store; group rule, 3 identity headers)',
  'memory',
);
export const sessionRedis = sessionCandidate(
  'gh-session-redis',
  'browser session cookie, warm (Redis store; CPU includes redis-server)',
  'redis',
);
export const sessionSsoRedis = sessionCandidate(
  'gh-session-sso-redis',
  'browser session on an SSO app host (host session → global session, Redis store)',
  'redis',
  true,
);
