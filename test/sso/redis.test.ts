import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COOKIE, EstateBrowser, isHandoff, startEstate, type Estate } from './estate.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const JSON_ACCEPT = { accept: 'application/json' };

describe('one login for many hosts across two Gatehouse instances sharing Redis (real redis-server)', () => {
  let redis: RedisServer;
  let e: Estate;
  let one: number;
  let two: number;
  before(async () => {
    redis = await startRedis();
    e = await startEstate({ instances: 2, session: { store: 'redis', redis: { url: redis.url } } });
    [one, two] = e.gateways.map((g) => g.port) as [number, number];
  });
  after(async () => {
    await e?.close();
    await redis?.stop();
  });

  test('a handoff issued by one instance is redeemed at the other, exactly once', async () => {
    const b = new EstateBrowser(one);
    assert.equal((await b.signIn(`${e.intranet}/`, 'alice')).status, 200);
    const stop = await b.navigate(`${e.payroll}/pay`, isHandoff);
    assert.ok(isHandoff(stop.url), stop.chain.join(' -> '));
    const issuedBy = e.gateways[0]!.audit.filter((a) => a.type === 'sso.handoff.issued');
    assert.equal(issuedBy.length, 2, 'instance one issued the codes');

    b.instancePort = two;
    const landed = await b.navigate(stop.url);
    assert.equal(landed.status, 200, landed.chain.join(' -> '));
    assert.equal(landed.url, `${e.payroll}/pay`);
    assert.equal(e.upstream.received.at(-1)!.headers['x-forwarded-user'], 'alice');
    assert.equal(e.gateways[1]!.audit.filter((a) => a.type === 'sso.handoff').length, 1, 'redeemed at two');
    assert.equal(b.authRequests(e.idp.issuer), 1);

    b.instancePort = one;
    const replay = await b.send(stop.url);
    assert.equal(replay.status, 400);
    assert.match(replay.body, /GH_SSO_HANDOFF_REPLAYED/, 'and never again, on either instance');
    assert.equal(
      (await b.send(`${e.payroll}/`, { headers: JSON_ACCEPT })).status,
      200,
      'host session on one',
    );
  });

  test('logout at one instance ends every host on the other', async () => {
    const b = new EstateBrowser(one);
    await b.signIn(`${e.intranet}/`, 'bob');
    assert.equal((await b.navigate(`${e.payroll}/`)).status, 200);
    b.instancePort = two;
    assert.equal((await b.send(`${e.intranet}/`, { headers: JSON_ACCEPT })).status, 200);
    const out = await b.send(`${e.payroll}/.gatehouse/logout`);
    assert.equal(out.status, 302);
    assert.equal(b.cookies(e.payroll).get(COOKIE), undefined);
    b.instancePort = one;
    for (const h of [e.intranet, e.login])
      assert.equal((await b.send(`${h}/`, { headers: JSON_ACCEPT })).status, 401, `${h} ended on one`);
  });

  test('back-channel logout received by one instance ends host sessions served by the other', async () => {
    const b = new EstateBrowser(two);
    await b.signIn(`${e.payroll}/`, 'carol');
    assert.equal((await b.navigate(`${e.intranet}/`)).status, 200);
    const info = await b.send(`${e.intranet}/.gatehouse/userinfo`, { headers: JSON_ACCEPT });
    const sid = (JSON.parse(info.body) as { claims: { sid: string } }).claims.sid;
    await e.idp.backchannelLogout('carol', sid); // delivered to instance one
    for (const h of [e.intranet, e.payroll])
      assert.equal((await b.send(`${h}/`, { headers: JSON_ACCEPT })).status, 401, `${h} ended on two`);
  });

  test('Redis down: app hosts, handoffs and the login host fail closed (503), they neither hang nor let anyone in', async () => {
    const b = new EstateBrowser(one);
    await b.signIn(`${e.intranet}/`, 'alice');
    const code = await b.navigate(`${e.payroll}/`, isHandoff);
    await redis.stop(true);
    try {
      const r = await b.send(`${e.intranet}/`, { headers: JSON_ACCEPT });
      assert.equal(r.status, 503);
      assert.match(r.body, /GH_SESSION_STORE_UNAVAILABLE/);
      const h = await b.send(code.url);
      assert.equal(h.status, 503, 'a handoff cannot be redeemed without the store');
      assert.equal(b.cookies(e.payroll).get(COOKIE), undefined, 'and sets no cookie');
      const start = await b.send(`${e.payroll}/`);
      assert.equal(start.status, 302, 'the start needs no store: the login host then answers 503');
      assert.equal((await b.send(start.headers.get('location')!)).status, 503);
    } finally {
      await redis.restart();
    }
  });
});
