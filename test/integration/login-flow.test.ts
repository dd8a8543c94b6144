import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSso, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { send } from '../helpers/http.js';

const ALICE = ['alice', 'alice-dev-password'] as const;
const BOB = ['bob', 'bob-dev-password'] as const;
const COOKIE = 'gatehouse_session';

describe('browser single sign-on through the real gateway and the embedded OpenID provider', () => {
  let f: SsoFixture;
  before(async () => {
    f = await startSso();
  });
  after(() => f.close());

  test('a browser navigation without a session is sent to the IdP and comes back signed in to the page it asked for', async () => {
    const b = new TestBrowser();
    const form = await b.navigate(`${f.url}/reports/q3?year=2024&x=%C3%A9`);
    assert.equal(form.status, 200);
    const authorize = new URL(form.chain[1] as string);
    assert.equal(authorize.origin, f.idp.issuer, 'redirected to the IdP');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${f.url}/.gatehouse/callback`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(
      authorize.searchParams.get('state') && authorize.searchParams.get('nonce'),
      "authorize.searchParams.get('state') && authorize.searchParams.get('nonce')",
    );
    assert.match(form.body, /<form/);

    const page = await b.submitLogin(form, ...ALICE);
    assert.equal(page.status, 200);
    assert.equal(
      page.url,
      `${f.url}/reports/q3?year=2024&x=%C3%A9`,
      'returned to the original path and query',
    );
    const seen = f.upstream.received.at(-1)!;
    assert.equal(seen.url, '/reports/q3?year=2024&x=%C3%A9');
    assert.equal(seen.headers['x-forwarded-user'], 'alice');
    assert.equal(seen.headers['x-forwarded-email'], 'alice@contoso.example');
    assert.equal(seen.headers.cookie, undefined, 'Gatehouse cookies never reach the upstream');

    const login = f.gw.audit.find((e) => e.type === 'login' && e.subject === 'alice');
    assert.ok(login, 'login audited');
    assert.equal(login.decision, 'allow');
    assert.match(String(login.credential_id), /^s:/);
  });

  test('routes that ask for them forward the session tokens: Authorization and Easy Auth X-MS-TOKEN-*', async () => {
    const b = new TestBrowser();
    const form = await b.navigate(`${f.url}/with-tokens/page`);
    const page = await b.submitLogin(form, ...ALICE);
    assert.equal(page.status, 200);
    const seen = f.upstream.received.at(-1)!;
    assert.equal(seen.url, '/with-tokens/page');
    assert.match(String(seen.headers.authorization), /^Bearer [\w.-]{16,}$/);
    const idToken = String(seen.headers['x-ms-token-aad-id-token']);
    const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
    };
    assert.equal(payload.sub, 'alice');
    assert.equal(seen.headers['x-ms-token-aad-access-token'], String(seen.headers.authorization).slice(7));
  });

  test('the session cookie is an opaque id with HttpOnly, SameSite=Lax, Path=/ and no Secure on plain http', async () => {
    const b = new TestBrowser();
    const form = await b.navigate(`${f.url}/`);
    const callback = await b.submitLogin(form, ...ALICE, (u) => u.startsWith(`${f.url}/.gatehouse/callback`));
    const res = await b.send(callback.url);
    assert.equal(res.status, 302);
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith(`${COOKIE}=`));
    assert.ok(session, `session cookie set: ${cookies.join(' | ')}`);
    assert.match(
      session,
      /^gatehouse_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200$/,
    );
    assert.ok(
      cookies.some((c) => /^gh-state-[A-Za-z0-9_-]+=; .*Max-Age=0/.test(c)),
      'state cookie cleared',
    );
    assert.ok(session.length < 200, 'small cookie whatever the token sizes');
  });

  test('APIs and XHR never get a login page: 401 without a Location', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['GET', { accept: 'application/json' }, 'JSON API'],
      ['GET', { accept: 'text/html', 'sec-fetch-mode': 'cors' }, 'fetch() from a page'],
      ['GET', { accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' }, 'XHR'],
      ['POST', { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, 'form POST'],
      ['GET', {}, 'no Accept'],
    ];
    for (const [method, headers, what] of cases) {
      const r = await send(f.url, '/reports', {
        method,
        headers,
        body: method === 'POST' ? 'a=1' : undefined,
      });
      assert.equal(r.status, 401, what);
      assert.equal(r.headers.location, undefined, what);
    }
    const r = await send(f.url, '/reports', { headers: { accept: 'text/html' } });
    assert.equal(r.status, 302, 'a plain browser navigation is redirected');
  });

  test('the redirect URI comes from server.external_url, never from Host or X-Forwarded-Host', async () => {
    const r = await send(f.url, '/x', {
      headers: { accept: 'text/html', host: 'evil.example', 'x-forwarded-host': 'evil2.example' },
    });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.location as string);
    assert.equal(loc.searchParams.get('redirect_uri'), `${f.url}/.gatehouse/callback`);
  });

  test('sessions give the same principal model to rules: /admin allows admins and denies others', async () => {
    const alice = new TestBrowser();
    assert.equal((await alice.login(`${f.url}/admin`, ...ALICE)).status, 200);
    assert.equal(f.upstream.received.at(-1)!.headers['x-forwarded-groups'], 'staff,admins');
    const bob = new TestBrowser();
    const denied = await bob.login(`${f.url}/admin`, ...BOB);
    assert.equal(denied.status, 403);
    assert.equal((await bob.navigate(`${f.url}/`)).status, 200, 'bob may use the rest of the app');
  });

  test('/.gatehouse/userinfo returns the principal as JSON, and 401 without a session', async () => {
    const anon = await send(f.url, '/.gatehouse/userinfo', { headers: { accept: 'application/json' } });
    assert.equal(anon.status, 401);
    assert.equal(anon.json().error, 'GH_SESSION_REQUIRED');
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const me = await b.send(`${f.url}/.gatehouse/userinfo`, { headers: { accept: 'application/json' } });
    assert.equal(me.status, 200);
    const j = JSON.parse(me.body) as Record<string, unknown>;
    assert.equal(j.subject, 'alice');
    assert.equal(j.email, 'alice@contoso.example');
    assert.deepEqual(j.groups, ['staff', 'admins']);
    assert.equal(j.provider, 'dev');
    assert.equal(j.auth_method, 'session');
    assert.equal(me.headers.get('cache-control'), 'no-store');
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(me.body), 'no tokens in the answer');
  });

  test('logout ends the session server-side (the old cookie is refused), then RP-initiated logout at the IdP', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const sid = b.cookies(f.url).get(COOKIE)!;
    assert.equal((await send(f.url, '/', { headers: { cookie: `${COOKIE}=${sid}` } })).status, 200);
    const out = await b.send(`${f.url}/.gatehouse/logout?rd=/public/bye`);
    assert.equal(out.status, 302);
    assert.ok(
      out.headers.getSetCookie().some((c) => c.startsWith(`${COOKIE}=;`) && c.includes('Max-Age=0')),
      "out.headers.getSetCookie().some((c) => c.startsWith(`${COOKIE}=;`) && c.includes('Max-Age=0'))",
    );
    const end = new URL(out.headers.get('location')!);
    assert.equal(end.origin, f.idp.issuer);
    assert.ok(end.searchParams.get('id_token_hint'), 'id_token_hint sent');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${f.url}/public/bye`);

    const replay = await send(f.url, '/', {
      headers: { cookie: `${COOKIE}=${sid}`, accept: 'application/json' },
    });
    assert.equal(replay.status, 401, 'replaying the old cookie after logout fails');
    const nav = await send(f.url, '/', { headers: { cookie: `${COOKIE}=${sid}`, accept: 'text/html' } });
    assert.equal(nav.status, 302);
    assert.ok(String(nav.headers.location).startsWith(f.idp.issuer), 'a browser is sent to log in again');
    assert.ok(
      f.gw.audit.some((e) => e.type === 'logout' && e.subject === 'alice'),
      "f.gw.audit.some((e) => e.type === 'logout' && e.subject === 'alice')",
    );
  });

  test('logout never redirects off-site: an unsafe rd falls back to the configured post-logout URI', async () => {
    for (const rd of ['//evil.example/', 'https://evil.example/', '/\\evil.example', '/%09/evil.example']) {
      const r = await send(f.url, `/.gatehouse/logout?rd=${encodeURIComponent(rd)}`);
      assert.equal(r.status, 302, rd);
      assert.equal(r.headers.location, '/', rd);
    }
  });

  test('login regenerates the session id: a planted cookie never becomes the victim’s session (fixation)', async () => {
    const attacker = new TestBrowser();
    await attacker.login(`${f.url}/`, 'carol', 'carol-dev-password');
    const planted = attacker.cookies(f.url).get(COOKIE)!;

    const victim = new TestBrowser();
    victim.cookies(f.url).set(COOKIE, planted);
    const page = await victim.navigate(`${f.url}/.gatehouse/login?rd=/home`);
    const home = await victim.submitLogin(page, ...ALICE);
    assert.equal(home.status, 200);
    const fresh = victim.cookies(f.url).get(COOKIE)!;
    assert.notEqual(fresh, planted, 'new id at login');
    const withPlanted = await send(f.url, '/.gatehouse/userinfo', {
      headers: { cookie: `${COOKIE}=${planted}` },
    });
    assert.equal(withPlanted.status, 401, 'the planted id was ended, it does not carry the victim’s login');
    const mine = await victim.send(`${f.url}/.gatehouse/userinfo`);
    assert.equal(JSON.parse(mine.body).subject, 'alice');

    const unknown = new TestBrowser();
    unknown.cookies(f.url).set(COOKIE, 'A'.repeat(43));
    await unknown.login(`${f.url}/`, ...BOB);
    assert.notEqual(unknown.cookies(f.url).get(COOKIE), 'A'.repeat(43));
  });

  test('several tabs can sign in at once: each attempt has its own state cookie', async () => {
    const b = new TestBrowser();
    const atIdp = (u: string) => u.startsWith(f.idp.issuer);
    const tab1 = await b.navigate(`${f.url}/one`, {}, atIdp);
    const tab2 = await b.navigate(`${f.url}/two`, {}, atIdp);
    const states = [...b.cookies(f.url).keys()].filter((k) => k.startsWith('gh-state-'));
    assert.equal(states.length, 2, 'two pending attempts, two cookies');
    const done2 = await b.login(tab2.url, ...ALICE);
    assert.equal(done2.url, `${f.url}/two`);
    const done1 = await b.navigate(tab1.url);
    assert.equal(done1.status, 200);
    assert.equal(done1.url, `${f.url}/one`, 'the first tab completes too (IdP session reused)');
    assert.equal(
      [...b.cookies(f.url).keys()].filter((k) => k.startsWith('gh-state-')).length,
      0,
      'both state cookies consumed',
    );
  });

  test('public routes stay public, and Gatehouse cookies are stripped there too while other cookies pass', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const r = await b.send(`${f.url}/public/page`, {
      headers: { cookie: `theme=dark; ${COOKIE}=${b.cookies(f.url).get(COOKIE)}; gh-state-abc=x; lang=en` },
    });
    assert.equal(r.status, 200);
    assert.equal(f.upstream.received.at(-1)!.headers.cookie, 'theme=dark; lang=en');
  });
});
