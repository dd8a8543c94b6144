import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startDevProvider, type DevProvider } from '../../src/dev/provider.js';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { TestBrowser } from './browser-client.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, ssoConfig } from './fixture.js';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

function problems(session: Record<string, unknown>, routes?: unknown[]): string[] {
  const doc = ssoConfig(8080, 'https://login.example.com', 'http://127.0.0.1:9', session);
  (doc.session as Record<string, unknown>).secrets = [SECRET];
  if (routes) doc.routes = routes;
  try {
    const state = compileState(validateConfig(doc), {
      logger: pino({ level: 'silent' }),
      baseDir: '.',
      dryRun: true,
    });
    void state.close();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  }
}

describe('configurable session endpoint paths (session.paths)', () => {
  test('defaults stay /.gatehouse/*; a preset or single keys compile', () => {
    assert.deepEqual(problems({}), []);
    assert.deepEqual(problems({ paths: 'oauth2-proxy' }), []);
    assert.deepEqual(problems({ paths: { callback: '/auth/cb', logout: '/signout' } }), []);
  });

  test('collisions and unusable paths are refused with the exact key path', () => {
    const app = (path: string, path_type = 'prefix') => ({
      match: { path, path_type },
      upstream: 'app',
      auth: 'session',
      allow: 'authenticated',
    });
    const cases: Array<[Record<string, unknown>, unknown[] | undefined, RegExp]> = [
      [
        { paths: { start: '/a/x', logout: '/a/x' } },
        undefined,
        /^session\.paths\.logout: "\/a\/x" is also session\.paths\.start/,
      ],
      [
        { paths: { callback: '/.gatehouse/login' } },
        undefined,
        /^session\.paths\.start: "\/\.gatehouse\/login" is also session\.paths\.callback/,
      ],
      [
        { paths: { callback: '/.gatehouse/health' } },
        undefined,
        /^session\.paths\.callback: .*\/\.gatehouse\/ holds Gatehouse's own endpoints/,
      ],
      [
        { paths: { userinfo: '/.well-known/me' } },
        undefined,
        /^session\.paths\.userinfo: .*reserved for metadata/,
      ],
      [
        { paths: { callback: 'oauth2/callback' } },
        undefined,
        /^session\.paths\.callback: .*expected a path starting with "\/"/,
      ],
      [{ paths: { callback: '/a/../b' } }, undefined, /^session\.paths\.callback: .*not a normalised path/],
      [{ paths: { logout: '/bye/' } }, undefined, /^session\.paths\.logout: .*trailing/],
      [
        { paths: { callback: '/cb' }, login: { redirect_path: '/.gatehouse/cb2' } },
        undefined,
        /^session\.paths\.callback: conflicts with session\.login\.redirect_path/,
      ],
      [
        { paths: 'oauth2-proxy' },
        [app('/'), app('/oauth2')],
        /^session\.paths: "\/oauth2\/callback" collides with routes\[1\]\.match\.path "\/oauth2"/,
      ],
      [
        { paths: { logout: '/logout' } },
        [app('/logout', 'exact'), app('/')],
        /^session\.paths\.logout: "\/logout" collides with routes\[0\]\.match\.path/,
      ],
    ];
    for (const [session, routes, re] of cases) {
      const p = problems(session, routes);
      assert.ok(
        p.some((x) => re.test(x)),
        `${re}: got ${JSON.stringify(p)}`,
      );
    }
    assert.deepEqual(problems({ paths: { logout: '/logout' } }, [app('/log', 'exact'), app('/')]), []);
  });
});

describe('an IdP registration made for oauth2-proxy keeps working (session.paths: oauth2-proxy)', () => {
  let idp: DevProvider;
  let upstream: RecordingUpstream;
  let gw: TestGateway;
  let url: string;
  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    upstream = await startUpstream();
    // Registered exactly as for oauth2-proxy: only /oauth2/callback is a valid redirect URI.
    idp = await startDevProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`${url}/oauth2/callback`],
          post_logout_redirect_uris: [`${url}/`],
        },
      ],
      logger: quiet,
    });
    gw = await startGatehouse(ssoConfig(port, idp.issuer, upstream.url, { paths: 'oauth2-proxy' }), {
      env: { TEST_SESSION_SECRET: SECRET },
    });
  });
  after(async () => {
    await gw.close();
    await idp.close();
    await upstream.close();
  });

  test('sign-in round trip through /oauth2/callback, then /oauth2/userinfo and /oauth2/sign_out', async () => {
    const b = new TestBrowser();
    const form = await b.navigate(`${url}/reports?q=1`);
    const authorize = new URL(form.chain[1] as string);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${url}/oauth2/callback`);
    const page = await b.submitLogin(form, 'alice', 'alice-dev-password');
    assert.equal(page.status, 200);
    assert.equal(page.url, `${url}/reports?q=1`);
    assert.ok(
      page.chain.some((u) => u.startsWith(`${url}/oauth2/callback?`)),
      'came back through /oauth2/callback',
    );
    assert.equal(upstream.received.at(-1)!.headers['x-forwarded-user'], 'alice');

    const me = await b.send(`${url}/oauth2/userinfo`, { headers: { accept: 'application/json' } });
    assert.equal(me.status, 200);
    assert.equal(JSON.parse(me.body).subject, 'alice');

    const out = await b.send(`${url}/oauth2/sign_out`);
    assert.equal(out.status, 302);
    assert.ok(String(out.headers.get('location')).startsWith(idp.issuer), 'RP-initiated logout at the IdP');
    const after = await b.send(`${url}/oauth2/userinfo`, { headers: { accept: 'application/json' } });
    assert.equal(after.status, 401);
  });

  test('/oauth2/start?rd= starts a login that returns to rd; the default /.gatehouse/ paths are gone', async () => {
    const start = await send(url, '/oauth2/start?rd=%2Fwiki%2Fhome', { headers: { accept: 'text/html' } });
    assert.equal(start.status, 302);
    const loc = new URL(String(start.headers.location));
    assert.equal(loc.origin, idp.issuer);
    assert.equal(loc.searchParams.get('redirect_uri'), `${url}/oauth2/callback`);
    for (const p of ['/.gatehouse/callback', '/.gatehouse/login', '/.gatehouse/userinfo'])
      assert.equal((await send(url, p, { headers: { accept: 'application/json' } })).status, 404, p);
    const b = new TestBrowser();
    const home = await b.login(`${url}/oauth2/start?rd=%2Fwiki%2Fhome`, 'bob', 'bob-dev-password');
    assert.equal(home.url, `${url}/wiki/home`);
  });
});
