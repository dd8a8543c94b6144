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
  opts: { externalUrl?: string; clientId?: string; listeners?: unknown[]; trusted?: string[] } = {},
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
        client_secret: SECRET,
        insecure_allow_http: true,
      },
    },
  });
}

const login = (file: string) => doctorJson(['-c', file, '--only', 'login']);

test('login: the registered redirect URI and client are accepted by the IdP, exit 0', async () => {
  const { run, report } = await login(config());
  assert.equal(run.code, 0, run.stdout);
  const uri = only(report, 'login.redirect_uri');
  assert.equal(uri.severity, 'ok');
  assert.match(uri.evidence ?? '', /redirect_uri=http:\/\/127\.0\.0\.1:8080\/\.gatehouse\/callback/);
  const a = only(report, 'login.authorize');
  assert.equal(a.severity, 'ok');
  assert.match(a.evidence ?? '', /HTTP 303/);
});

test('login.redirect_uri: a redirect URI the IdP does not know (another port) is refused, in the IdP words', async () => {
  const { run, report } = await login(config({ externalUrl: 'http://127.0.0.1:8443' }));
  assert.equal(run.code, 1);
  const f = only(report, 'login.redirect_uri');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /refuses the redirect URI \(invalid_redirect_uri\)/);
  assert.match(f.evidence ?? '', /redirect_uri did not match any of the client's registered redirect_uris/);
  assert.match(
    f.fix ?? '',
    /redirect_uri=http:\/\/127\.0\.0\.1:8443\/\.gatehouse\/callback .*register exactly this URI at the IdP/,
  );
});

test('login.client_id: a client id the IdP does not know', async () => {
  const { run, report } = await login(config({ clientId: 'gatehouse-typo' }));
  assert.equal(run.code, 1);
  const f = only(report, 'login.client_id');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /does not know client_id "gatehouse-typo"/);
  assert.match(f.evidence ?? '', /invalid_client/);
});

test('login.client_id: each of session.logins is probed, and named by its key', async () => {
  const file = wd.write('logins.yaml', {
    server: { external_url: 'http://127.0.0.1:8080' },
    providers: { dev: { issuer: op.issuer, audiences: ['gatehouse'] } },
    session: {
      secrets: ['0123456789abcdef0123456789abcdef0123'],
      insecure_http_cookies: true,
      login: { provider: 'dev', client_id: 'gatehouse', client_secret: SECRET, insecure_allow_http: true },
      logins: {
        partners: {
          provider: 'dev',
          client_id: 'partners-typo',
          client_secret: SECRET,
          insecure_allow_http: true,
        },
      },
    },
  });
  const { run, report } = await login(file);
  assert.equal(run.code, 1);
  assert.equal(only(report, 'login.authorize', 'session.login').severity, 'ok');
  const f = only(report, 'login.client_id', 'session.logins.partners');
  assert.match(f.what, /does not know client_id "partners-typo"/);
});
