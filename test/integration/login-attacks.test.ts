import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSso, ssoConfig, CLIENT_ID, SECRET, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser, type Page } from '../oidc/browser-client.js';
import { startFakeIdp, type FakeIdp } from '../oidc/fake-idp.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';

const ALICE = ['alice', 'alice-dev-password'] as const;
const COOKIE = 'gatehouse_session';

function assertNoSession(res: { headers: Headers }): void {
  const set = res.headers
    .getSetCookie()
    .filter((c) => c.startsWith(`${COOKIE}=`) && !c.includes('Max-Age=0'));
  assert.deepEqual(set, [], 'no session cookie issued');
}

describe('login attacks against the real provider', () => {
  let f: SsoFixture;
  before(async () => {
    f = await startSso({ session: { login: { allowed_redirect_domains: ['.example.test'] } } });
  });
  after(() => f.close());

  /** A browser already signed in at the IdP, so later logins complete without the form. */
  async function signedInAtIdp(): Promise<TestBrowser> {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    b.cookies(f.url).delete(COOKIE);
    return b;
  }

  /** Starts an attempt and walks it through the IdP, stopping before the callback. */
  async function pendingCallback(b: TestBrowser, path = '/'): Promise<{ callback: string; cookie: string }> {
    const p = await b.navigate(`${f.url}${path}`, {}, (u) => u.startsWith(`${f.url}/.gatehouse/callback`));
    return { callback: p.url, cookie: b.cookieHeader(f.url) ?? '' };
  }

  test('open redirects after login are refused: the user lands on / instead', async () => {
    const b = await signedInAtIdp();
    const port = new URL(f.url).port;
    const evil = [
      '//evil.example/',
      '/\\evil.example',
      '\\\\evil.example',
      '/%09/evil.example',
      '/%5Cevil.example',
      '/%2F%2Fevil.example',
      'https://evil.example/',
      `https://user@127.0.0.1:${port}/`,
      `http://evil.example\\@127.0.0.1:${port}/`,
      'javascript:alert(1)',
      'data:text/html,hi',
      'https://portal.example.test.evil.example/',
      'https://evil.example/.example.test',
      'ftp://portal.example.test/',
    ];
    for (const rd of evil) {
      const done = await b.navigate(
        `${f.url}/.gatehouse/login?rd=${encodeURIComponent(rd)}`,
        {},
        (u) => !u.startsWith(f.url) && !u.startsWith(f.idp.issuer),
      );
      assert.equal(
        done.url,
        `${f.url}/`,
        `rd=${rd} must not leave the site (chain ${done.chain.join(' -> ')})`,
      );
      assert.equal(done.status, 200);
    }
  });

  test('a same-origin path and a configured allowed domain are honoured', async () => {
    const b = await signedInAtIdp();
    const local = await b.navigate(`${f.url}/.gatehouse/login?rd=${encodeURIComponent('/reports?a=1')}`);
    assert.equal(local.url, `${f.url}/reports?a=1`);
    const off = await b.navigate(
      `${f.url}/.gatehouse/login?rd=${encodeURIComponent('https://portal.example.test/x')}`,
      {},
      (u) => u.startsWith('https://'),
    );
    assert.equal(off.url, 'https://portal.example.test/x');
  });

  test('a callback without state, or without its state cookie, shows an error page, is audited and creates no session', async () => {
    const noState = await new TestBrowser().send(`${f.url}/.gatehouse/callback?code=abc`);
    assert.equal(noState.status, 400);
    assert.match(noState.headers.get('content-type') ?? '', /text\/html/);
    assert.match(noState.body, /GH_LOGIN_STATE_MISSING/);
    assert.match(noState.body, /Sign in again/);
    assertNoSession(noState);

    const b = await signedInAtIdp();
    const { callback } = await pendingCallback(b);
    const otherBrowser = await new TestBrowser().send(callback);
    assert.equal(otherBrowser.status, 400, 'the callback link opened in another browser fails');
    assert.match(otherBrowser.body, /GH_LOGIN_STATE_MISSING/);
    assertNoSession(otherBrowser);
    const failed = f.gw.audit.filter((e) => e.type === 'login.failed');
    assert.ok(
      failed.some((e) => e.error === 'GH_LOGIN_STATE_MISSING' && e.decision === 'deny'),
      "failed.some((e) => e.error === 'GH_LOGIN_STATE_MISSING' && e.decision === 'deny')",
    );
  });

  test('state is bound to its own sealed cookie: mismatched or tampered cookies are refused', async () => {
    const b = await signedInAtIdp();
    const a = await pendingCallback(b, '/a');
    const stateA = new URL(a.callback).searchParams.get('state')!;
    const jar = b.cookies(f.url);
    const cookieA = [...jar.keys()].find((k) => k.startsWith('gh-state-'))!;
    const valueA = jar.get(cookieA)!;
    jar.delete(cookieA);
    await pendingCallback(b, '/b');
    const cookieB = [...jar.keys()].find((k) => k.startsWith('gh-state-'))!;
    assert.notEqual(cookieA, cookieB);
    const valueB = jar.get(cookieB)!;
    assert.ok(!valueA.includes(stateA), 'the state value is not readable in the cookie');

    const mismatch = await b.send(a.callback, {
      headers: { cookie: `${cookieA}=${valueB}` },
      noCookies: true,
    });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body, /GH_LOGIN_STATE_INVALID/);
    assertNoSession(mismatch);

    const tampered = valueA.slice(0, -4) + (valueA.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bad = await b.send(a.callback, { headers: { cookie: `${cookieA}=${tampered}` }, noCookies: true });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /GH_LOGIN_STATE_INVALID/);
    assertNoSession(bad);
  });

  test('a replayed callback (same state and cookie) is refused after the first use', async () => {
    const b = await signedInAtIdp();
    const { callback, cookie } = await pendingCallback(b, '/replay');
    const first = await b.send(callback, { headers: { cookie }, noCookies: true });
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/replay');
    const again = await b.send(callback, { headers: { cookie }, noCookies: true });
    assert.equal(again.status, 400);
    assert.match(again.body, /GH_LOGIN_STATE_REPLAYED/);
    assertNoSession(again);
  });

  test('an authorization code stolen from another attempt fails the PKCE check', async () => {
    const attacker = await signedInAtIdp();
    const stolen = await pendingCallback(attacker, '/x');
    const code = new URL(stolen.callback).searchParams.get('code')!;
    const victim = await signedInAtIdp();
    const mine = await pendingCallback(victim, '/y');
    const injected = new URL(mine.callback);
    injected.searchParams.set('code', code);
    const r = await victim.send(injected.href, { headers: { cookie: mine.cookie }, noCookies: true });
    assert.equal(r.status, 502);
    assert.match(r.body, /GH_LOGIN_CODE_EXCHANGE_FAILED/);
    assertNoSession(r);
  });

  test('an IdP error response shows a clear page and is audited with the OAuth error', async () => {
    const b = await signedInAtIdp();
    const { callback, cookie } = await pendingCallback(b, '/z');
    const u = new URL(callback);
    u.searchParams.delete('code');
    u.searchParams.set('error', 'access_denied');
    u.searchParams.set('error_description', 'user is not assigned to the application');
    const r = await b.send(u.href, { headers: { cookie }, noCookies: true });
    assert.equal(r.status, 401);
    assert.match(r.body, /did not sign you in/);
    assert.match(r.body, /GH_LOGIN_IDP_ERROR/);
    assertNoSession(r);
    const ev = f.gw.audit.filter((e) => e.type === 'login.failed').at(-1)!;
    assert.equal(ev.error, 'GH_LOGIN_IDP_ERROR');
    assert.ok(ev.reasons.includes('oauth.access_denied'), "ev.reasons.includes('oauth.access_denied')");
  });
});

describe('ID tokens that must be refused (scripted provider)', () => {
  let idp: FakeIdp;
  let gw: TestGateway;
  let upstream: RecordingUpstream;
  before(async () => {
    idp = await startFakeIdp(CLIENT_ID);
    upstream = await startUpstream();
    const port = await freePort();
    gw = await startGatehouse(ssoConfig(port, idp.issuer, upstream.url), {
      env: { TEST_SESSION_SECRET: SECRET },
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await idp.close();
  });

  for (const mode of ['wrong-nonce', 'no-nonce', 'wrong-aud', 'wrong-iss', 'bad-signature'] as const) {
    test(`${mode}: error page, login.failed audit, no session`, async () => {
      idp.mode = mode;
      const b = new TestBrowser();
      const page: Page = await b.navigate(`${gw.url}/secret`);
      assert.equal(page.status, 401, `${mode}: ${page.body.slice(0, 200)}`);
      assert.match(page.body, /GH_LOGIN_ID_TOKEN_INVALID/);
      assert.equal(b.cookies(gw.url).get(COOKIE), undefined);
      assert.equal(upstream.received.length, 0, 'nothing reached the app');
      const ev = gw.audit.filter((e) => e.type === 'login.failed').at(-1)!;
      assert.equal(ev.error, 'GH_LOGIN_ID_TOKEN_INVALID');
    });
  }

  test('a well-formed answer from the same provider is accepted (the checks are not just failing everything)', async () => {
    idp.mode = 'ok';
    const b = new TestBrowser();
    const page = await b.navigate(`${gw.url}/secret`);
    assert.equal(page.status, 200);
    assert.equal(upstream.received.at(-1)!.headers['x-forwarded-user'], 'mallory');
    const r = await send(gw.url, '/secret', {
      headers: { cookie: `${COOKIE}=${b.cookies(gw.url).get(COOKIE)}` },
    });
    assert.equal(r.status, 200);
  });
});
