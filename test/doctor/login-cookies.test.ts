import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { doctorJson, only, workdir } from './helpers.js';

// The login probe against the real OpenID provider (oidc-provider, the embedded dev IdP):
// the authorization endpoint is asked with the configured client id and redirect URI.

const REGISTERED = 'http://127.0.0.1:8080/.gatehouse/callback';
const SECRET = 'dev-client-secret-0123456789abcdef0123456789';
let op: DevProvider;
const wd = workdir();

before(async () => {
  op = await startDevProvider({
    clients: [{ client_id: 'gatehouse', client_secret: SECRET, redirect_uris: [REGISTERED] }],
    logger: { warn() {}, info() {}, error() {} },
  });
});
after(async () => {
  await op.close();
  wd.cleanup();
});

function config(
  opts: {
    externalUrl?: string;
    clientId?: string;
    listeners?: unknown[];
    trusted?: string[];
    extra?: Record<string, string>;
  } = {},
): string {
  return wd.write(`l-${Math.random().toString(36).slice(2)}.yaml`, {
    server: {
      external_url: opts.externalUrl ?? 'http://127.0.0.1:8080',
      ...(opts.listeners ? { listeners: opts.listeners } : {}),
      ...(opts.trusted ? { trusted_proxies: opts.trusted } : {}),
    },
    providers: { dev: { issuer: op.issuer, audiences: ['gatehouse'] } },
    session: {
      secrets: ['0123456789abcdef0123456789abcdef0123'],
      ...(opts.externalUrl?.startsWith('https:') ? {} : { insecure_http_cookies: true }),
      login: {
        provider: 'dev',
        client_id: opts.clientId ?? 'gatehouse',
        ...(opts.extra ? { extra_auth_params: opts.extra } : {}),
        client_secret: SECRET,
        insecure_allow_http: true,
      },
    },
  });
}

const login = (file: string) => doctorJson(['-c', file, '--only', 'login']);

test('login.cookies: session cookies over plain http on a real host name', async () => {
  const { report } = await login(config({ externalUrl: 'http://intranet.example.test:8080' }));
  const f = only(report, 'login.cookies');
  assert.equal(f.severity, 'warning');
  assert.match(f.what, /plain http/);
  assert.match(f.fix ?? '', /https/);
});

test('login.cookies: an https external_url with no TLS listener and no trusted proxy', async () => {
  const { report } = await login(config({ externalUrl: 'https://intranet.example.test' }));
  const f = only(report, 'login.cookies');
  assert.equal(f.severity, 'warning');
  assert.match(f.what, /no listener serves TLS/);
  assert.match(f.fix ?? '', /login loops/);
});

test('login.authorize: the login provider down means sign-in unavailable', async () => {
  const down = await startDevProvider({ clients: [], logger: { warn() {}, info() {}, error() {} } });
  const issuer = down.issuer;
  await down.close();
  const file = wd.write('down.yaml', {
    server: { external_url: 'http://127.0.0.1:8080' },
    providers: { dev: { issuer, audiences: ['gatehouse'] } },
    session: {
      secrets: ['0123456789abcdef0123456789abcdef0123'],
      insecure_http_cookies: true,
      login: { provider: 'dev', client_id: 'gatehouse', client_secret: SECRET, insecure_allow_http: true },
    },
  });
  const { report } = await login(file);
  const f = only(report, 'login.authorize');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /sign-in is unavailable/);
  assert.match(f.evidence ?? '', /ECONNREFUSED/);
});

test('login.authorize: client and redirect URI accepted, but the request refused back at the redirect URI', async () => {
  const { run, report } = await login(config({ extra: { prompt: 'bogus' } }));
  assert.equal(run.code, 1);
  const f = only(report, 'login.authorize');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /accepts client and redirect URI but refuses the request: invalid_request/);
  assert.match(f.evidence ?? '', /unsupported prompt value requested/);
  assert.equal(only(report, 'login.redirect_uri').severity, 'ok');
});
