import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSso, type SsoFixture } from '../oidc/fixture.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { send } from '../helpers/http.js';

const COOKIE = 'gatehouse_session';

describe('Redis-backed sessions shared by two Gatehouse instances (real redis-server)', () => {
  let redis: RedisServer;
  let one: SsoFixture;
  let two: SsoFixture;
  before(async () => {
    redis = await startRedis();
    const [p1, p2] = [await freePort(), await freePort()];
    const session = { store: 'redis', redis: { url: redis.url } };
    one = await startSso({ port: p1, extraPorts: [p2], session });
    two = await startSso({ port: p2, sharedIdp: one.idp, session });
  });
  after(async () => {
    await two?.close();
    await one?.close();
    await redis?.stop();
  });

  test('log in on one instance, use the session on the other, log out there, and the first refuses it', async () => {
    const b = new TestBrowser();
    const page = await b.login(`${one.url}/`, 'alice', 'alice-dev-password');
    assert.equal(page.status, 200);
    const cookie = `${COOKIE}=${b.cookies(one.url).get(COOKIE)}`;
    const onTwo = await send(two.url, '/.gatehouse/userinfo', { headers: { cookie } });
    assert.equal(onTwo.status, 200);
    assert.equal(onTwo.json().subject, 'alice');
    assert.equal((await send(two.url, '/app', { headers: { cookie } })).status, 200);
    assert.equal(two.upstream.received.at(-1)!.headers['x-forwarded-user'], 'alice');

    const out = await send(two.url, '/.gatehouse/logout', { headers: { cookie } });
    assert.equal(out.status, 302);
    assert.equal(
      (await send(one.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
      401,
      'ended everywhere',
    );
  });

  test('back-channel logout received by one instance ends the session on both', async () => {
    const b = new TestBrowser();
    await b.login(`${one.url}/`, 'bob', 'bob-dev-password');
    const cookie = `${COOKIE}=${b.cookies(one.url).get(COOKIE)}`;
    const sid = (await send(two.url, '/.gatehouse/userinfo', { headers: { cookie } })).json<{
      claims: { sid: string };
    }>().claims.sid;
    await one.idp.backchannelLogout('bob', sid);
    assert.equal(
      (await send(two.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
      401,
    );
    assert.equal(
      (await send(one.url, '/app', { headers: { cookie, accept: 'application/json' } })).status,
      401,
    );
  });

  test('when Redis is down, requests fail closed with 503 instead of hanging or logging everyone out', async () => {
    const b = new TestBrowser();
    await b.login(`${one.url}/`, 'carol', 'carol-dev-password');
    const cookie = `${COOKIE}=${b.cookies(one.url).get(COOKIE)}`;
    await redis.stop(true);
    try {
      const t0 = Date.now();
      const r = await send(one.url, '/app', { headers: { cookie, accept: 'application/json' } });
      assert.equal(r.status, 503);
      assert.equal(r.json().error, 'GH_SESSION_STORE_UNAVAILABLE');
      assert.ok(Date.now() - t0 < 5000, 'answers within the store timeout');
    } finally {
      await redis.restart();
    }
  });
});
