import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSso, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser, type Page } from '../oidc/browser-client.js';
import { send } from '../helpers/http.js';
import { DEV_ACR_MFA } from '../../src/dev/provider-types.js';

const COOKIE = 'gatehouse_session';
const JSON_ACCEPT = { accept: 'application/json' };

/** Submits the dev IdP's login form with extra fields (the demo one-time code). */
async function submitForm(b: TestBrowser, page: Page, fields: Record<string, string>): Promise<Page> {
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  if (action === undefined) throw new Error(`no login form at ${page.url}: ${page.body.slice(0, 200)}`);
  const target = new URL(action.replaceAll('&amp;', '&'), page.url).href;
  const first = await b.send(target, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const loc = first.headers.get('location');
  return loc === null ? first : b.navigate(new URL(loc, target).href);
}

function upstreamRoutes(upstream: string): Record<string, unknown>[] {
  const r = (name: string, path: string, session?: Record<string, unknown>) => ({
    name,
    match: { path },
    upstream,
    auth: 'session',
    allow: 'authenticated',
    ...(session ? { session } : {}),
  });
  return [
    r('fresh', '/fresh', { max_auth_age: '3s' }),
    r('mfa', '/mfa', { require_acr: [DEV_ACR_MFA], require_amr: ['mfa'] }),
    r('idle', '/idle', { idle_timeout: '2s' }),
    r('short', '/short', { absolute_lifetime: '3s' }),
    r('app', '/'),
  ];
}

describe('per-route session policy and step-up with the real OpenID provider', () => {
  let f: SsoFixture;
  before(async () => {
    f = await startSso({ edit: (c) => (c.routes = upstreamRoutes('app')) });
  });
  after(() => f.close());

  test('max_auth_age: an old sign-in is sent back through the IdP with prompt=login and max_age; the session is rotated', async () => {
    const b = new TestBrowser();
    assert.equal((await b.login(`${f.url}/fresh`, 'bob', 'bob-dev-password')).status, 200);
    const first = b.cookies(f.url).get(COOKIE)!;
    await sleep(3600);
    const api = await send(f.url, '/fresh', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${first}` } });
    assert.equal(api.status, 401);
    assert.equal(api.json().error, 'GH_SESSION_STEP_UP_REQUIRED');
    assert.match(
      String(api.headers['www-authenticate']),
      /^Bearer error="insufficient_user_authentication", .*max_age=3$/,
      'RFC 9470 challenge',
    );
    assert.equal(
      (await send(f.url, '/other', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${first}` } })).status,
      200,
      'routes without the requirement still accept the session',
    );
    const nav = await b.send(`${f.url}/fresh`);
    assert.equal(nav.status, 302);
    const authorize = new URL(nav.headers.get('location')!);
    assert.equal(authorize.origin, f.idp.issuer);
    assert.equal(authorize.searchParams.get('prompt'), 'login');
    assert.equal(authorize.searchParams.get('max_age'), '3');
    const form = await b.navigate(authorize.href);
    assert.match(form.body, /<form/, 'the IdP asks for the password again even though it has a session');
    const back = await b.submitLogin(form, 'bob', 'bob-dev-password');
    assert.equal(back.status, 200);
    assert.equal(back.url, `${f.url}/fresh`);
    const second = b.cookies(f.url).get(COOKIE)!;
    assert.notEqual(second, first, 'new session id after step-up');
    assert.equal(
      (await send(f.url, '/other', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${first}` } })).status,
      401,
      'the pre-step-up id is gone',
    );
    const ev = f.gw.audit.filter((e) => e.type === 'login' && e.subject === 'bob').at(-1);
    assert.ok(ev?.reasons.includes('login.step_up'), "ev?.reasons.includes('login.step_up')");
  });

  test('require_acr/require_amr: acr_values is requested; a password-only answer is refused, the one-time code passes', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/home`, 'alice', 'alice-dev-password');
    const plain = b.cookies(f.url).get(COOKIE)!;
    const api = await send(f.url, '/mfa', { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${plain}` } });
    assert.equal(api.status, 401);
    assert.equal(api.json().error, 'GH_SESSION_STEP_UP_REQUIRED');
    assert.match(String(api.headers['www-authenticate']), new RegExp(`acr_values="${DEV_ACR_MFA}"`));

    const nav = await b.send(`${f.url}/mfa/pay`);
    const authorize = new URL(nav.headers.get('location')!);
    assert.equal(authorize.searchParams.get('acr_values'), DEV_ACR_MFA);
    assert.equal(authorize.searchParams.get('prompt'), 'login');
    // Password only: the IdP answers acr pwd, which does not satisfy the route.
    const refused = await submitForm(b, await b.navigate(authorize.href), {
      login: 'alice',
      password: 'alice-dev-password',
    });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /GH_SESSION_STEP_UP_FAILED/);
    assert.equal(b.cookies(f.url).get(COOKIE), plain, 'the old session is kept');
    assert.equal((await b.send(`${f.url}/home`)).status, 200, 'and still serves routes without MFA');
    const failed = f.gw.audit.filter((e) => e.type === 'login.failed').at(-1);
    assert.equal(failed?.error, 'GH_SESSION_STEP_UP_FAILED');

    const again = await b.send(`${f.url}/mfa/pay`);
    const ok = await submitForm(b, await b.navigate(again.headers.get('location')!), {
      login: 'alice',
      password: 'alice-dev-password',
      otp: '123456',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.url, `${f.url}/mfa/pay`);
    const mfa = b.cookies(f.url).get(COOKIE)!;
    assert.notEqual(mfa, plain, 'rotated at the privilege change');
    const me = JSON.parse((await b.send(`${f.url}/.gatehouse/userinfo`, { headers: JSON_ACCEPT })).body) as {
      claims: { acr?: string; amr?: string[] };
    };
    assert.equal(me.claims.acr, DEV_ACR_MFA);
    assert.ok(me.claims.amr?.includes('mfa'), "me.claims.amr?.includes('mfa')");
  });

  test('per-route lifetimes: an idle group or an old session must sign in again there, other routes keep it', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/idle`, 'carol', 'carol-dev-password');
    const id = b.cookies(f.url).get(COOKIE)!;
    const get = (p: string) => send(f.url, p, { headers: { ...JSON_ACCEPT, cookie: `${COOKIE}=${id}` } });
    assert.equal((await get('/idle')).status, 200);
    await sleep(1200);
    assert.equal((await get('/idle')).status, 200, 'used within its idle timeout');
    assert.equal((await get('/short')).status, 200);
    await sleep(2300);
    const idle = await get('/idle');
    assert.equal(idle.status, 401);
    assert.equal(idle.json().error, 'GH_SESSION_ROUTE_EXPIRED');
    const short = await get('/short');
    assert.equal(short.status, 401, 'older than the route absolute_lifetime');
    assert.equal(short.json().error, 'GH_SESSION_ROUTE_EXPIRED');
    assert.equal((await get('/other')).status, 200, 'the session itself is still valid');
    const nav = await b.send(`${f.url}/idle`);
    assert.equal(nav.status, 302);
    assert.ok(nav.headers.get('location')!.startsWith(f.idp.issuer), 'a browser signs in again');
    const req = f.gw.audit.filter((e) => e.type === 'request' && e.path === '/idle').at(-1);
    assert.ok(req?.reasons.includes('session.route_idle'), "req?.reasons.includes('session.route_idle')");
  });
});
