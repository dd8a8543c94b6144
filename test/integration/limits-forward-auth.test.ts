import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { CLIENT_ID, clientFor, SECRET, ssoConfig } from '../oidc/fixture.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import { nginxForwardAuthServer } from './limits-forward-auth.nginx.js';

/**
 * Forward-auth against a REAL nginx (auth_request + auth_request_set). nginx reaches Gatehouse
 * from 127.0.0.2, the only trusted proxy; the test client connects from 127.0.0.1 (untrusted).
 */
const READER = 'ak_reader_6c1d9e2b7a3f4e5d6c7b8a9f';
const QUIET = { warn: () => undefined, info: () => undefined, error: () => undefined };

let up: RecordingUpstream;
let idp: DevProvider;
let gh: TestGateway;
let nginx: NginxServer;
let nginxUrl: string;

before(async () => {
  up = await startUpstream();
  const nginxPort = await freePort();
  nginxUrl = `http://127.0.0.1:${nginxPort}`;
  idp = await startDevProvider({ clients: [clientFor([nginxPort])], logger: QUIET });
  const gport = await freePort();
  const base = ssoConfig(gport, idp.issuer, up.url);
  const config = {
    ...base,
    server: { ...(base.server as object), external_url: nginxUrl, trusted_proxies: ['127.0.0.2/32'] },
    api_keys: { keys: [{ hash: hashApiKey(READER), client_id: 'report-reader', roles: ['reader'] }] },
    routes: [
      { name: 'public', match: { path: '/public' }, upstream: 'app', auth: 'none' },
      {
        name: 'reports',
        match: { path: '/reports' },
        upstream: 'app',
        auth: 'apikey',
        allow: 'authenticated',
        identity: { headers: { 'X-Forwarded-User': '{sub}' } },
        limits: [{ name: 'reports', rate: '100/s', key: 'client_id', headers: true }],
      },
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ effect: 'allow', when: { role: 'admin' } }],
      },
      {
        name: 'app',
        match: { path: '/' },
        upstream: 'app',
        auth: 'session',
        allow: 'authenticated',
        identity: { headers: 'oauth2-proxy' },
      },
    ],
  };
  gh = await startGatehouse(config, { env: { TEST_SESSION_SECRET: SECRET } });
  nginx = await startNginx(
    nginxForwardAuthServer({ listen: nginxPort, gatehouse: gh.url, upstream: up.url, bind: '127.0.0.2' }),
    nginxPort,
  );
});
after(async () => {
  await nginx.stop();
  await gh.close();
  await idp.close();
  await up.close();
});

/** A request from 127.0.0.2 (the trusted proxy address): what Traefik or Caddy would send. */
function asProxy(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const u = new URL(gh.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, headers, localAddress: '127.0.0.2', agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('nginx: an allowed request reaches the app with the identity headers Gatehouse returned', async () => {
  const n = up.received.length;
  const r = await send(nginxUrl, '/reports/q3?year=2024', {
    headers: { 'x-api-key': READER, 'x-forwarded-user': 'forged' },
  });
  assert.equal(r.status, 200);
  assert.equal(up.received.length, n + 1);
  const seen = up.received.at(-1);
  assert.equal(seen?.url, '/reports/q3?year=2024');
  assert.equal(
    seen?.headers['x-forwarded-user'],
    'report-reader',
    'the verified identity replaced the forged header',
  );
  const ev = gh.audit.at(-1);
  assert.equal(ev?.route, 'reports');
  assert.equal(ev?.path, '/reports/q3');
  assert.equal(ev?.method, 'GET');
  assert.equal(ev?.decision, 'allow');
  assert.equal(ev?.client_id, 'report-reader');
});

test('nginx: denied requests get 401/403 from nginx and never reach the app', async () => {
  const n = up.received.length;
  const noKey = await send(nginxUrl, '/reports/q3', { headers: { accept: 'application/json' } });
  assert.equal(noKey.status, 401);
  const notAdmin = await send(nginxUrl, '/admin/users', { headers: { 'x-api-key': READER } });
  assert.equal(notAdmin.status, 403);
  const badKey = await send(nginxUrl, '/reports/q3', { headers: { 'x-api-key': 'ak_guess' } });
  assert.equal(badKey.status, 401);
  assert.equal(up.received.length, n, 'no denied request was proxied');
  assert.equal(gh.audit.at(-1)?.error, 'GH_APIKEY_INVALID');
});

test('nginx: a browser navigation without a session is redirected to the IdP login (state cookie kept)', async () => {
  const r = await send(nginxUrl, '/dashboard?tab=2', { headers: { accept: 'text/html' } });
  assert.equal(r.status, 302);
  const loc = new URL(String(r.headers.location));
  assert.equal(loc.origin + loc.pathname.replace(/\/auth.*$/, ''), idp.issuer.replace(/\/$/, ''));
  assert.equal(loc.searchParams.get('client_id'), CLIENT_ID);
  assert.equal(loc.searchParams.get('redirect_uri'), `${nginxUrl}/.gatehouse/callback`);
  const cookies = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  assert.ok(
    cookies.some((c) => c.startsWith('gh-state-')),
    `the login state cookie reaches the browser: ${cookies.join(' | ')}`,
  );
  const api = await send(nginxUrl, '/dashboard', { headers: { accept: 'application/json' } });
  assert.equal(api.status, 401, 'APIs get 401, never a login page');
});

test('nginx: a spoofed X-Forwarded-Uri / X-Original-URI from the client is overwritten by nginx', async () => {
  const n = up.received.length;
  const r = await send(nginxUrl, '/admin/users', {
    headers: {
      'x-api-key': READER,
      'x-forwarded-uri': '/public/x',
      'x-original-uri': '/public/x',
      'x-forwarded-method': 'OPTIONS',
    },
  });
  assert.equal(r.status, 403, 'the decision is about /admin/users, not the spoofed /public/x');
  assert.equal(up.received.length, n);
  assert.equal(gh.audit.at(-1)?.path, '/admin/users');
});

test('an untrusted client calling the auth endpoint directly is refused, whatever it claims', async () => {
  for (const path of ['/.gatehouse/auth', '/.gatehouse/auth/nginx']) {
    const r = await send(gh.url, path, {
      headers: { 'x-forwarded-uri': '/public/x', 'x-forwarded-host': 'app.example' },
    });
    assert.equal(r.status, 403, path);
    assert.equal(r.json().error, 'GH_FORWARD_AUTH_UNTRUSTED');
  }
});

test('Traefik/Caddy style: 200 with identity and RateLimit headers, 302 login redirect, 401 with reason', async () => {
  const fwd = {
    'x-forwarded-method': 'GET',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'intranet.example',
    'x-forwarded-for': '203.0.113.9',
  };
  const ok = await asProxy('/.gatehouse/auth', {
    ...fwd,
    'x-forwarded-uri': '/reports/%61nnual?x=1',
    'x-api-key': READER,
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-forwarded-user'], 'report-reader');
  assert.match(String(ok.headers['ratelimit']), /^"reports";r=\d+;t=\d+$/);
  const ev = gh.audit.at(-1);
  assert.equal(ev?.path, '/reports/annual', 'normalised exactly like inline mode');
  assert.equal(ev?.client_ip, '203.0.113.9');
  assert.equal(ev?.host, 'intranet.example');

  const login = await asProxy('/.gatehouse/auth', {
    ...fwd,
    'x-forwarded-uri': '/home',
    accept: 'text/html',
  });
  assert.equal(login.status, 302, 'Traefik and Caddy pass the redirect to the browser as is');
  assert.ok(
    String(login.headers.location).startsWith(idp.issuer),
    'String(login.headers.location).startsWith(idp.issuer)',
  );

  const denied = await asProxy('/.gatehouse/auth', {
    ...fwd,
    'x-forwarded-uri': '/admin',
    'x-api-key': READER,
  });
  assert.equal(denied.status, 403);
  assert.equal(JSON.parse(denied.body).error, 'GH_ACCESS_DENIED');

  const ambiguous = await asProxy('/.gatehouse/auth', { ...fwd, 'x-forwarded-uri': '/public/%2e%2e/admin' });
  assert.equal(ambiguous.status, 400, 'ambiguous paths are refused as inline');

  const missing = await asProxy('/.gatehouse/auth', fwd);
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.body).error, 'GH_FORWARD_AUTH_BAD_REQUEST');

  const conflicting = await asProxy('/.gatehouse/auth', {
    ...fwd,
    'x-forwarded-uri': '/admin',
    'x-original-uri': '/public',
  });
  assert.equal(conflicting.status, 400, 'two differing descriptions of the original URI are refused');
});

test('Envoy ext_authz (HTTP): the original path follows the prefix, method and Host are the request’s own', async () => {
  const envoy = { host: 'intranet.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' };
  const ok = await asProxy('/.gatehouse/ext_authz/reports/%61nnual?x=1', { ...envoy, 'x-api-key': READER });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-forwarded-user'], 'report-reader');
  const ev = gh.audit.at(-1);
  assert.deepEqual(
    [ev?.path, ev?.host, ev?.client_ip],
    ['/reports/annual', 'intranet.example', '198.51.100.7'],
  );

  const denied = await asProxy('/.gatehouse/ext_authz/admin', { ...envoy, 'x-api-key': READER });
  assert.equal(denied.status, 403);
  const noKey = await asProxy('/.gatehouse/ext_authz/reports', envoy);
  assert.equal(noKey.status, 401);
  const ambiguous = await asProxy('/.gatehouse/ext_authz/public/..%2fadmin', envoy);
  assert.equal(ambiguous.status, 400);
  const direct = await send(gh.url, '/.gatehouse/ext_authz/reports', { headers: { 'x-api-key': READER } });
  assert.equal(direct.status, 403, 'only trusted proxies may ask');
});
