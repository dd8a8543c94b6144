import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSso, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { startFakeIdp } from '../oidc/fake-idp.js';
import { send } from '../helpers/http.js';

const ALICE = ['alice', 'alice-dev-password'] as const;
const COOKIE = 'gatehouse_session';

describe('refresh and back-channel logout against the real provider', () => {
  let f: SsoFixture;
  before(async () => {
    // Access tokens live 2 s, so a session is due for refresh (at half-life) after 1 s.
    f = await startSso({ idp: { accessTokenTtl: 2 } });
  });
  after(() => f.close());

  test('an expiring access token is refreshed once for 20 concurrent requests, twice in a row with rotating refresh tokens', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const cookie = `${COOKIE}=${b.cookies(f.url).get(COOKIE)}`;
    const refreshed = () =>
      f.gw.audit.filter((e) => e.type === 'session.refreshed' && e.subject === 'alice').length;
    for (let round = 1; round <= 2; round++) {
      await sleep(1200);
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          send(f.url, '/api/data', { headers: { cookie, accept: 'application/json' } }),
        ),
      );
      assert.deepEqual(
        replies.map((r) => r.status),
        Array(20).fill(200),
        `round ${round}: every request keeps the session`,
      );
      assert.equal(refreshed(), round, `round ${round}: exactly one refresh`);
    }
    assert.equal(f.gw.audit.filter((e) => e.type === 'session.ended').length, 0);
  });

  test('back-channel logout from the IdP ends the session server-side', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const cookie = `${COOKIE}=${b.cookies(f.url).get(COOKIE)}`;
    const me = await send(f.url, '/.gatehouse/userinfo', { headers: { cookie } });
    const sid = (me.json().claims as Record<string, unknown>).sid;
    assert.equal(typeof sid, 'string', 'the IdP session id is kept for back-channel logout');
    await f.idp.backchannelLogout('alice', sid as string);
    const after = await send(f.url, '/api/data', { headers: { cookie, accept: 'application/json' } });
    assert.equal(after.status, 401);
    const ev = f.gw.audit.find((e) => e.type === 'logout.backchannel');
    assert.ok(ev, 'audited');
    assert.equal(ev.subject, 'alice');
  });

  test('the back-channel endpoint refuses forged, malformed and ID-token-shaped logout tokens', async () => {
    const b = new TestBrowser();
    await b.login(`${f.url}/`, ...ALICE);
    const cookie = `${COOKIE}=${b.cookies(f.url).get(COOKIE)}`;
    const forger = await startFakeIdp('x');
    try {
      const now = Math.floor(Date.now() / 1000);
      const forged = await forger.sign({
        iss: f.idp.issuer,
        aud: 'gatehouse-test',
        sub: 'alice',
        iat: now,
        jti: 'j1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      });
      const post = (body: string, type = 'application/x-www-form-urlencoded') =>
        send(f.url, '/.gatehouse/backchannel-logout', {
          method: 'POST',
          headers: { 'content-type': type },
          body,
        });
      for (const [body, what] of [
        [`logout_token=${forged}`, 'signed by someone else'],
        ['logout_token=not-a-jwt', 'garbage'],
        ['', 'missing'],
      ] as const) {
        const r = await post(body);
        assert.equal(r.status, 400, what);
        assert.equal(r.json().error, 'GH_BACKCHANNEL_LOGOUT_INVALID', what);
      }
      assert.equal((await post(`logout_token=${forged}`, 'application/json')).status, 400);
      assert.equal((await send(f.url, '/.gatehouse/backchannel-logout')).status, 405);
      assert.equal(
        (await send(f.url, '/api/data', { headers: { cookie } })).status,
        200,
        'the session survived',
      );
    } finally {
      await forger.close();
    }
  });
});
