import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSso, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { send } from '../helpers/http.js';

const COOKIE = 'gatehouse_session';
const JSON_ACCEPT = { accept: 'application/json' };

function setCookies(h: Record<string, unknown>): string[] {
  const v = h['set-cookie'];
  return Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [String(v)];
}

describe('session cookie correctness through the real gateway and the embedded OpenID provider', () => {
  let f: SsoFixture;
  let alice: string;
  let carol: string;
  before(async () => {
    f = await startSso();
    const a = new TestBrowser();
    await a.login(`${f.url}/`, 'alice', 'alice-dev-password');
    alice = a.cookies(f.url).get(COOKIE)!;
    const c = new TestBrowser();
    await c.login(`${f.url}/`, 'carol', 'carol-dev-password');
    carol = c.cookies(f.url).get(COOKIE)!;
  });
  after(() => f.close());

  test('the plain-http demo setup says loudly that session cookies travel unencrypted', () => {
    assert.ok(
      f.gw.logs.some(
        (l) => l.level === 'warn' && /^INSECURE: session\.insecure_http_cookies is on/.test(String(l.msg)),
      ),
      'warn line at start',
    );
  });

  test('a session id inside another cookie’s value (" gatehouse_session=<id>") is never read as the session', async () => {
    const ok = await send(f.url, '/whoami', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${alice}` } });
    assert.equal(ok.status, 200, 'the id itself is valid');
    for (const cookie of [`prefs=dark ${COOKIE}=${alice}`, `prefs="a\t${COOKIE}=${alice}"`]) {
      const r = await send(f.url, '/whoami', { headers: { ...JSON_ACCEPT, cookie } });
      assert.equal(r.status, 401, cookie);
    }
  });

  test('two session cookies (host + parent-domain copy) are ambiguous: no session, every copy cleared, audited — in either order', async () => {
    for (const cookie of [
      `${COOKIE}=${alice}; theme=1; ${COOKIE}=${carol}`,
      `${COOKIE}=${carol}; ${COOKIE}=${alice}`,
    ]) {
      const before = f.upstream.received.length;
      const r = await send(f.url, '/reports/q3', {
        headers: { ...JSON_ACCEPT, cookie, host: 'hr.corp.example' },
      });
      assert.equal(r.status, 401, 'neither the first nor the last cookie wins');
      assert.equal(f.upstream.received.length, before, 'nothing reached the app');
      const sc = setCookies(r.headers);
      for (const want of [
        /^gatehouse_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/,
        /^gatehouse_session=; Path=\/; HttpOnly; SameSite=Lax; Domain=corp\.example; Max-Age=0/,
        /^gatehouse_session=; Path=\/reports; HttpOnly; SameSite=Lax; Domain=corp\.example; Max-Age=0/,
        /^gatehouse_session=; Path=\/reports\/q3; HttpOnly; SameSite=Lax; Max-Age=0/,
      ])
        assert.ok(
          sc.some((c) => want.test(c)),
          `${want} in ${sc.join(' | ')}`,
        );
      const ev = f.gw.audit.filter((e) => e.type === 'session.cookie_ambiguous').at(-1);
      assert.equal(ev?.error, 'GH_SESSION_COOKIE_AMBIGUOUS');
      assert.deepEqual(ev?.reasons, ['session.cookie_ambiguous']);
      const req = f.gw.audit.filter((e) => e.type === 'request').at(-1);
      assert.ok(req?.reasons.includes('session.cookie_ambiguous'), 'the request event names the reason too');
    }
    // The same duplicate split over two Cookie header lines (as HTTP/2 sends them) is just as ambiguous.
    const split = await send(f.url, '/x', {
      headers: [
        ['accept', 'application/json'],
        ['cookie', `${COOKIE}=${alice}`],
        ['cookie', `${COOKIE}=${carol}`],
      ],
    });
    assert.equal(split.status, 401);
  });

  test('a browser with an ambiguous cookie is sent to sign in with every copy cleared, and comes back with one fresh cookie', async () => {
    const r = await send(f.url, '/home', {
      headers: { accept: 'text/html', cookie: `${COOKIE}=${alice}; ${COOKIE}=${carol}` },
    });
    assert.equal(r.status, 302);
    assert.ok(String(r.headers.location).startsWith(f.idp.issuer), 'login at the IdP');
    assert.ok(
      setCookies(r.headers).some((c) => c.startsWith(`${COOKIE}=;`) && c.includes('Max-Age=0')),
      "setCookies(r.headers).some((c) => c.startsWith(`${COOKIE}=;`) && c.includes('Max-Age=0'))",
    );
    // Neither session was used or ended by the ambiguous request: both still work on their own.
    for (const id of [alice, carol])
      assert.equal(
        (await send(f.url, '/x', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${id}` } })).status,
        200,
      );
  });

  test('logout and /.gatehouse/userinfo with an ambiguous cookie use neither session', async () => {
    const cookie = `${COOKIE}=${alice}; ${COOKIE}=${carol}`;
    const me = await send(f.url, '/.gatehouse/userinfo', { headers: { ...JSON_ACCEPT, cookie } });
    assert.equal(me.status, 401);
    const out = await send(f.url, '/.gatehouse/logout', { headers: { cookie } });
    assert.equal(out.status, 302);
    assert.ok(
      !String(out.headers.location).includes('id_token_hint'),
      'no session picked for the IdP logout',
    );
    assert.equal(
      (await send(f.url, '/x', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${alice}` } })).status,
      200,
      'alice’s session was not ended by someone else’s ambiguous logout',
    );
  });

  test('signing in again rotates the session: new id, the old one no longer works', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, 'bob', 'bob-dev-password');
    const first = b.cookies(f.url).get(COOKIE)!;
    const again = await b.navigate(`${f.url}/.gatehouse/login?rd=/again`);
    // The IdP remembers bob: no form, straight back with a new session.
    assert.equal(again.status, 200);
    assert.equal(again.url, `${f.url}/again`);
    const second = b.cookies(f.url).get(COOKIE)!;
    assert.notEqual(second, first);
    const old = await send(f.url, '/x', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${first}` } });
    assert.equal(old.status, 401, 'the previous id was removed from the store');
  });
});
