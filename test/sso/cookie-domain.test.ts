import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { CLIENT_ID, CLIENT_SECRET, COOKIE, EstateBrowser, SECRET } from './estate.js';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
const JSON_ACCEPT = { accept: 'application/json' };

function config(
  port: number,
  issuer: string,
  upstream: string,
  session: object = {},
): Record<string, unknown> {
  const route = (h: string) => ({
    name: h,
    match: { host: `${h}.corp.localhost`, path: '/' },
    upstream: 'app',
    auth: 'session',
    allow: 'authenticated',
    identity: { headers: 'oauth2-proxy' },
  });
  return {
    server: {
      listeners: [{ address: '127.0.0.1', port }],
      external_url: `http://login.corp.localhost:${port}`,
    },
    log: { level: 'info', access_log: false },
    providers: { dev: { issuer, audiences: [CLIENT_ID], login_client_ids: [CLIENT_ID] } },
    session: {
      secrets: [SECRET],
      insecure_http_cookies: true,
      cookie_domain: 'corp.localhost',
      ...session,
      login: {
        provider: 'dev',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scopes: ['openid', 'profile', 'email', 'groups'],
        insecure_allow_http: true,
      },
    },
    upstreams: { app: { url: upstream } },
    routes: [route('intranet'), route('payroll'), route('login')],
  };
}

describe('session.cookie_domain: one parent-domain cookie for the login host and every host under it', () => {
  let idp: DevProvider;
  let upstream: RecordingUpstream;
  let gw: TestGateway;
  let port: number;
  const url = (h: string) => `http://${h}.corp.localhost:${port}`;
  before(async () => {
    port = await freePort();
    upstream = await startUpstream();
    idp = await startDevProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`http://login.corp.localhost:${port}/.gatehouse/callback`],
          post_logout_redirect_uris: [`http://login.corp.localhost:${port}/`],
        },
      ],
      logger: quiet,
    });
    gw = await startGatehouse(config(port, idp.issuer, upstream.url));
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await idp?.close();
  });

  test('sign in from intranet through the login host; payroll then needs no redirect at all; logout on payroll ends intranet', async () => {
    const b = new EstateBrowser();
    const page = await b.signIn(`${url('intranet')}/docs?x=1`, 'alice');
    assert.equal(page.status, 200, page.chain.join(' -> '));
    assert.equal(page.url, `${url('intranet')}/docs?x=1`);
    assert.ok(page.chain[1]!.startsWith(`${url('login')}/.gatehouse/login?rd=`), page.chain.join(' -> '));
    const domainJar = b.jar.get('domain=corp.localhost');
    assert.ok(domainJar?.get(COOKIE), 'the session cookie carries Domain=corp.localhost');
    const p = await b.navigate(`${url('payroll')}/`);
    assert.equal(p.status, 200);
    assert.deepEqual(p.chain, [`${url('payroll')}/`], 'no redirect: the parent-domain cookie is sent');
    assert.equal(upstream.received.at(-1)!.headers['x-forwarded-user'], 'alice');
    assert.equal(upstream.received.at(-1)!.headers.cookie, undefined);
    const out = await b.send(`${url('payroll')}/.gatehouse/logout`);
    assert.equal(out.status, 302);
    assert.match(out.headers.get('set-cookie') ?? '', /Domain=corp\.localhost/);
    assert.equal((await b.send(`${url('intranet')}/`, { headers: JSON_ACCEPT })).status, 401);
  });

  test('return targets outside the cookie domain are refused (open-redirect proof)', async () => {
    const b = new EstateBrowser();
    const s = await b.navigate(
      `${url('login')}/.gatehouse/login?rd=${encodeURIComponent('http://evil.localhost/')}`,
      (u) => u.startsWith(idp.issuer),
    );
    assert.ok(s.url.startsWith(idp.issuer), 's.url.startsWith(idp.issuer)');
    const done = await b.signIn(
      `${url('login')}/.gatehouse/login?rd=${encodeURIComponent('http://corp.localhost.evil.localhost/')}`,
      'bob',
    );
    assert.equal(done.url, `${url('login')}/`, 'a look-alike host falls back to the login host');
  });
});

test('session.cookie_domain config errors name their key paths', () => {
  const problems = (session: object, external = 'https://login.corp.example'): string[] => {
    const d = config(443, 'https://idp.example', 'http://127.0.0.1:9', session);
    (d.server as Record<string, unknown>).external_url = external;
    (d.session as Record<string, unknown>).secrets = [SECRET];
    try {
      void compileState(validateConfig(d), {
        logger: pino({ level: 'silent' }),
        baseDir: '.',
        dryRun: true,
      }).close();
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
    }
  };
  assert.deepEqual(problems({ cookie_domain: 'corp.example', insecure_http_cookies: false }), []);
  assert.ok(
    problems({ cookie_domain: 'other.example' }).some((p) =>
      /^session\.cookie_domain: the login host/.test(p),
    ),
    "problems({ cookie_domain: 'other.example' }).some((p) => /^session\\.cookie_domain: the login host/.test(p))",
  );
  assert.ok(
    problems({ cookie_domain: 'corp.example', cookie_name: '__Host-gh' }).some((p) =>
      /^session\.cookie_name: "__Host-gh": a __Host- cookie cannot carry the Domain/.test(p),
    ),
    "problems({ cookie_domain: 'corp.example', cookie_name: '__Host-gh' }).some((p) => /^session\\.cookie_name: \"__Host-gh\": a __Host- cookie cannot carry the Domain/.test(p))",
  );
  assert.ok(
    problems({ cookie_domain: 'corp.example', sso: { hosts: ['https://hr.corp.example'] } }).some((p) =>
      /^session\.cookie_domain: choose one/.test(p),
    ),
    "problems({ cookie_domain: 'corp.example', sso: { hosts: ['https://hr.corp.example'] } }).some((p) => /^session\\.cookie_domain: choose one/.test(p))",
  );
  assert.ok(
    problems({ cookie_domain: 'localhost' }).some((p) =>
      /^session\.cookie_domain: expected a parent domain/.test(p),
    ),
    "problems({ cookie_domain: 'localhost' }).some((p) => /^session\\.cookie_domain: expected a parent domain/.test(p))",
  );
});
