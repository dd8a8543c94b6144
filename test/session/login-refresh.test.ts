import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager, type Refresher } from '../../src/oidc/sessions.js';
import type { TokenSet } from '../../src/oidc/client.js';
import { keys, logger, principalOf } from './manager-fixture.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { RedisSessionStore } from '../../src/session/redis-store.js';
import type { SessionStore } from '../../src/session/store.js';
import { GatehouseError } from '../../src/errors/index.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

/** A refresh endpoint that rotates the refresh token, takes 100 ms, and rejects a reused token like a real IdP. */
class RotatingIdp implements Refresher {
  calls = 0;
  current = 'rt-0';
  fail: 'no' | 'grant' | 'network' = 'no';
  async refresh(rt: string): Promise<TokenSet> {
    this.calls++;
    await sleep(100);
    if (this.fail === 'network')
      throw new GatehouseError('GH_LOGIN_IDP_UNAVAILABLE', 'refresh: fetch failed');
    if (this.fail === 'grant' || rt !== this.current)
      throw new GatehouseError('GH_LOGIN_CODE_EXCHANGE_FAILED', 'refresh: invalid_grant');
    this.current = `rt-${this.calls}`;
    return {
      accessToken: `at-${this.calls}`,
      refreshToken: this.current,
      idToken: undefined,
      accessExpiresAt: Date.now() + 600_000,
      claims: undefined,
    };
  }
}

const times = { absolute: 3_600_000, idle: 600_000, refreshBefore: 60_000 };
const expiring: TokenSet = {
  accessToken: 'at-0',
  refreshToken: 'rt-0',
  idToken: 'id-0',
  accessExpiresAt: undefined,
  claims: undefined,
};
/** Tokens whose access token lives 400 ms: due for refresh (at half its life) after 200 ms. */
const soon = (): TokenSet => ({ ...expiring, accessExpiresAt: Date.now() + 400 });

async function refreshSuite(name: string, stores: () => [SessionStore, SessionStore]): Promise<void> {
  await test(`${name}: 40 concurrent requests on two instances refresh exactly once and all keep the session`, async () => {
    const [s1, s2] = stores();
    const idp = new RotatingIdp();
    const m1 = new SessionManager(s1, keys, idp, times, logger, principalOf);
    const m2 = new SessionManager(s2, keys, idp, times, logger, principalOf);
    const id = await m1.create({ sub: 'alice', groups: ['staff'] }, soon(), 'idp-sid-1');
    await sleep(250);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? m1 : m2).load(id)));
    assert.equal(idp.calls, 1, 'single flight across instances');
    for (const r of results) {
      assert.ok(r, 'every request keeps its session');
      assert.equal(r.p.subject, 'alice');
      assert.ok(r.ae! > Date.now() + 500_000, 'fresh expiry seen by all');
    }
    assert.ok(await m2.load(id), 'still valid afterwards (the rotated token was stored)');
  });

  await test(`${name}: a rejected refresh ends the session cleanly; an IdP outage keeps it`, async () => {
    const [s1] = stores();
    const idp = new RotatingIdp();
    const m = new SessionManager(s1, keys, idp, times, logger, principalOf);
    idp.fail = 'network';
    const kept = await m.create({ sub: 'bob' }, soon(), undefined);
    await sleep(250);
    assert.ok(await m.load(kept), 'IdP down: the session stays');
    assert.ok(await m.load(kept), 'and is not retried on every request');
    assert.equal(idp.calls, 1);
    idp.fail = 'grant';
    const ended = await m.create({ sub: 'carol' }, soon(), undefined);
    await sleep(250);
    assert.equal(await m.load(ended), undefined, 'invalid_grant ends the session');
    assert.equal(await s1.get(ended), undefined, 'and removes it from the store');
  });
}

describe('token refresh single-flight (memory store)', () => {
  test('memory', async () => {
    const shared = new MemorySessionStore();
    await refreshSuite('memory', () => [shared, shared]);
    await shared.close();
  });
});

describe('token refresh single-flight (two Redis clients, real redis-server)', () => {
  let redis: RedisServer;
  const opened: SessionStore[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of opened) await s.close();
    await redis.stop();
  });
  test('redis', async () => {
    await refreshSuite('redis', () => {
      const a = new RedisSessionStore(
        { store: 'redis', url: redis.url, prefix: `t${opened.length}:` },
        logger,
      );
      const b = new RedisSessionStore(
        { store: 'redis', url: redis.url, prefix: `t${opened.length}:` },
        logger,
      );
      opened.push(a, b);
      return [a, b];
    });
  });
});

test('idle timeout and absolute lifetime end sessions', async () => {
  const store = new MemorySessionStore();
  const idp = new RotatingIdp();
  const m = new SessionManager(
    store,
    keys,
    idp,
    { absolute: 1500, idle: 400, refreshBefore: 10 },
    logger,
    principalOf,
  );
  const noRefresh: TokenSet = { ...expiring, refreshToken: undefined, accessExpiresAt: undefined };
  const idle = await m.create({ sub: 'a' }, noRefresh, undefined);
  await sleep(550);
  assert.equal(await m.load(idle), undefined, 'idle for longer than idle_timeout');
  const busy = await m.create({ sub: 'b' }, noRefresh, undefined);
  const deadline = Date.now() + 1700;
  let lastOk = 0;
  while (Date.now() < deadline) {
    if (await m.load(busy)) lastOk = Date.now();
    await sleep(100);
  }
  assert.ok(lastOk > 0, 'used regularly: alive');
  assert.equal(await m.load(busy), undefined, 'but never past the absolute lifetime');
  await store.close();
});
