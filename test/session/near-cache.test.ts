import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { isGatehouseError } from '../../src/errors/index.js';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { storeConfigOf } from '../../src/session/create-store.js';
import { NearCache } from '../../src/session/near-cache.js';
import { RedisSessionStore } from '../../src/session/redis-store.js';
import { sessionCacheCounters } from '../../src/session/metrics.js';
import { GatehouseMetrics } from '../../src/metrics/gateway.js';
import type { SessionConfig } from '../../src/session/schema.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { waitFor } from '../helpers/ports.js';

const silent = pino({ level: 'silent' });

describe('near cache (pure logic)', () => {
  const clock = { t: 1_000_000 };
  const make = (maxAgeMs = 1000, maxEntries = 100) =>
    new NearCache({ maxAgeMs, maxEntries, now: () => clock.t });

  test('a filled entry is served as a fresh copy each time', () => {
    const c = make();
    assert.equal(c.fill('s', '{"g":["a"]}', c.begin()), true);
    const first = c.get('s') as { g: string[] };
    first.g.push('mutated');
    assert.deepEqual(c.get('s'), { g: ['a'] });
  });

  test('getShared parses a cached value once; a write or an invalidation ends the sharing', () => {
    const c = make();
    c.fill('s', '{"v":1}', c.begin());
    const a = c.getShared('s');
    assert.deepEqual(a, { v: 1 });
    assert.equal(c.getShared('s'), a, 'the same object while the value is unchanged');
    c.write('s', '{"v":2}', c.begin(), 60_000);
    assert.deepEqual(c.getShared('s'), { v: 2 }, 'a new value after a write');
    c.invalidate(['s']);
    assert.equal(c.getShared('s'), undefined, 'nothing after an invalidation');
  });

  test('an invalidation or clear between begin() and fill() keeps the reply out of the cache', () => {
    const c = make();
    const t1 = c.begin();
    c.invalidate(['other-id']);
    assert.equal(c.fill('s', '{"v":"old"}', t1), false);
    assert.equal(c.get('s'), undefined);
    const t2 = c.begin();
    c.clear();
    assert.equal(c.fill('s', '{"v":"old"}', t2), false);
    assert.equal(c.get('s'), undefined);
    assert.equal(c.stats.discarded, 2);
    assert.equal(c.fill('s', '{"v":"new"}', c.begin()), true);
    assert.deepEqual(c.get('s'), { v: 'new' });
  });

  test('an own write evicts instead of caching when an invalidation raced it, and stops reads in flight', () => {
    const c = make();
    const w = c.begin();
    c.invalidate(['s']);
    c.write('s', '{"v":1}', w, 60_000);
    assert.equal(c.get('s'), undefined);
    const read = c.begin();
    c.write('s', '{"v":2}', c.begin(), 60_000);
    assert.deepEqual(c.get('s'), { v: 2 });
    assert.equal(c.fill('s', '{"v":1}', read), false, 'a read sent before the write may hold the old value');
    assert.deepEqual(c.get('s'), { v: 2 });
  });

  test('entries live for max age, and never past the record ttl when it is known', () => {
    const c = make(1000);
    c.fill('a', '1', c.begin());
    c.fill('b', '2', c.begin(), 300);
    c.fill('gone', '3', c.begin(), 0);
    clock.t += 299;
    assert.equal(c.get('b'), 2);
    assert.equal(c.get('gone'), undefined);
    clock.t += 1;
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 1);
    clock.t += 700;
    assert.equal(c.get('a'), undefined);
  });

  test('at most max_entries, the least recently used dropped first; invalidate drops only the ids named', () => {
    const c = make(60_000, 2);
    c.fill('a', '1', c.begin());
    c.fill('b', '2', c.begin());
    c.get('a');
    c.fill('c', '3', c.begin());
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 1);
    c.invalidate(['a', 'unknown']);
    assert.equal(c.get('a'), undefined);
    assert.equal(c.get('c'), 3);
  });
});

describe('near cache of the redis session store (real redis-server)', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let raw: Redis;
  const open: RedisSessionStore[] = [];

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  after(async () => {
    for (const s of open) await s.close();
    raw.disconnect();
    await redis.stop();
  });

  /** Redis GET commands executed so far (INFO commandstats), counted by the server. */
  async function gets(r: Redis = raw): Promise<number> {
    const info = await r.info('commandstats');
    const m = /cmdstat_get:calls=(\d+)/.exec(info);
    return m ? Number(m[1]) : 0;
  }

  /** Two instances A and B on one prefix, both with the near cache on and subscribed. */
  async function pair(maxAgeMs = 60_000, url = redis.url) {
    const prefix = `nc-${randomBytes(4).toString('hex')}:`;
    const cfg = { store: 'redis', url, prefix, nearCache: { maxAgeMs, maxEntries: 1000 } } as const;
    const a = new RedisSessionStore(cfg, silent);
    const b = new RedisSessionStore(cfg, silent);
    open.push(a, b);
    await waitFor(() => a.nearCacheActive && b.nearCacheActive, 10_000, 'near caches to subscribe');
    return { a, b, key: (id: string) => `${prefix}s:${id}`, channel: `${prefix}inv` };
  }

  /** Polls `get` until it deep-equals `expected` (a peer's change arrives by pub/sub). */
  async function eventually(s: RedisSessionStore, id: string, expected: unknown): Promise<void> {
    let last: unknown;
    await waitFor(
      async () => {
        last = await s.get(id);
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      5_000,
      `get(${id}) to be ${JSON.stringify(expected)}, last ${JSON.stringify(last)}`,
    );
  }

  test('a session read twice on B is served the second time without a redis GET', async () => {
    const { a, b } = await pair();
    await a.set('s1', { sub: 'alice', groups: ['staff'] }, 60_000);
    const g0 = await gets();
    const before = { ...sessionCacheCounters };
    assert.deepEqual(await b.get('s1'), { sub: 'alice', groups: ['staff'] });
    const g1 = await gets();
    assert.equal(g1 - g0, 1, 'the first read goes to redis');
    const copy = (await b.get('s1')) as { groups: string[] };
    copy.groups.push('injected');
    assert.deepEqual(await b.get('s1'), { sub: 'alice', groups: ['staff'] }, 'each hit is a fresh copy');
    assert.equal(await gets(), g1, 'no redis GET for the cached reads');
    assert.equal(sessionCacheCounters.hit - before.hit, 2);
    assert.equal(sessionCacheCounters.miss - before.miss, 1);
    const exposition = new GatehouseMetrics().registry.expose();
    assert.match(
      exposition,
      new RegExp(`^gatehouse_session_cache_total\\{result="hit"\\} ${sessionCacheCounters.hit}$`, 'm'),
    );
    assert.equal(await b.get('never-set'), undefined);
    assert.equal(await b.get('never-set'), undefined);
    assert.equal((await gets()) - g1, 2, 'absent ids are never cached');
  });

  test('a change on A (set, delete, deleteByIndex, take) reaches B through the invalidation', async () => {
    const { a, b } = await pair();
    for (const id of ['x', 'y1', 'y2', 'z']) await a.set(id, { id, v: 1 }, 60_000);
    await a.index('sub:bob', 'y1', 60_000);
    await a.index('sub:bob', 'y2', 60_000);
    for (const id of ['x', 'y1', 'y2', 'z']) {
      await b.get(id);
      assert.deepEqual(await b.get(id), { id, v: 1 });
    }
    const hits = b.nearCacheStats?.hits ?? 0;
    assert.ok(hits >= 4, `served from the near cache (${hits} hits)`);
    await a.set('x', { id: 'x', v: 2, stepped_up: true }, 60_000);
    await eventually(b, 'x', { id: 'x', v: 2, stepped_up: true });
    await a.delete('x');
    await eventually(b, 'x', undefined);
    assert.equal(await a.deleteByIndex('sub:bob'), 2);
    await eventually(b, 'y1', undefined);
    await eventually(b, 'y2', undefined);
    assert.deepEqual(await a.take('z'), { id: 'z', v: 1 });
    await eventually(b, 'z', undefined);
  });

  test('a record changed in redis without a publish is seen after at most max_age', async () => {
    const { b, key } = await pair(300);
    await b.set('r', { v: 1 }, 60_000);
    assert.deepEqual(await b.get('r'), { v: 1 });
    await raw.set(key('r'), '{"v":2}', 'KEEPTTL');
    await eventually(b, 'r', { v: 2 });
    await raw.del(key('r'));
    await eventually(b, 'r', undefined);
  });

  test('an unreadable invalidation message clears the whole cache', async () => {
    const { b, channel } = await pair();
    await b.set('m', { v: 1 }, 60_000);
    await b.get('m');
    const g0 = await gets();
    await b.get('m');
    assert.equal(await gets(), g0, 'cached');
    await raw.publish(channel, 'not json');
    await waitFor(
      async () => {
        const before = await gets();
        await b.get('m');
        return (await gets()) > before;
      },
      5_000,
      'a redis GET after the malformed message',
    );
  });

  test('a killed subscriber connection: B reads redis until it has subscribed again', async () => {
    const { b, key } = await pair();
    await b.set('k', { v: 'old' }, 60_000);
    assert.deepEqual(await b.get('k'), { v: 'old' });
    assert.ok(b.nearCacheActive, 'b.nearCacheActive');
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await raw.set(key('k'), '{"v":"new"}', 'KEEPTTL');
    const bypassed = sessionCacheCounters.bypass;
    assert.deepEqual(await b.get('k'), { v: 'new' }, 'the old cached value is not served');
    assert.equal(sessionCacheCounters.bypass, bypassed + 1, 'counted as a bypass');
    await waitFor(() => b.nearCacheActive, 10_000, 'B to subscribe again');
    assert.deepEqual(await b.get('k'), { v: 'new' });
    const g0 = await gets();
    assert.deepEqual(await b.get('k'), { v: 'new' });
    assert.equal(await gets(), g0, 'cached again once subscribed');
  });

  test('a delete that times out (but redis applies later) is not hidden by the own cache', async () => {
    const prefix = `nc-${randomBytes(4).toString('hex')}:`;
    const x = new RedisSessionStore(
      {
        store: 'redis',
        url: redis.url,
        prefix,
        timeoutMs: 200,
        nearCache: { maxAgeMs: 60_000, maxEntries: 10 },
      },
      silent,
    );
    open.push(x);
    await waitFor(() => x.nearCacheActive, 10_000, 'near cache to subscribe');
    await x.set('t', { v: 1 }, 60_000);
    assert.deepEqual(await x.get('t'), { v: 1 });
    await raw.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    try {
      await assert.rejects(x.delete('t'), (e: unknown) =>
        isGatehouseError(e, 'GH_SESSION_STORE_UNAVAILABLE'),
      );
    } finally {
      await raw.call('CLIENT', 'UNPAUSE');
    }
    await eventually(x, 't', undefined);
  });

  test('redis stopped: a cached session is not served, get rejects with GH_SESSION_STORE_UNAVAILABLE', async () => {
    const own = await startRedis();
    const ownRaw = new Redis(own.url);
    try {
      const { b } = await pair(60_000, own.url);
      await b.set('d', { v: 1 }, 60_000);
      await b.get('d');
      const g0 = await gets(ownRaw);
      assert.deepEqual(await b.get('d'), { v: 1 });
      assert.equal(await gets(ownRaw), g0, 'cached before the outage');
      ownRaw.disconnect();
      await own.stop(true);
      await assert.rejects(b.get('d'), (e: unknown) => isGatehouseError(e, 'GH_SESSION_STORE_UNAVAILABLE'));
      await own.restart();
      await waitFor(() => b.nearCacheActive, 10_000, 'B to reconnect and subscribe');
      assert.equal(await b.get('d'), undefined, 'the restarted (empty) redis is read, not the old cache');
    } finally {
      ownRaw.disconnect();
      await own.stop();
    }
  });
});

describe('session.redis.near_cache config', () => {
  const doc = (redis: Record<string, unknown>) => ({
    server: { external_url: 'https://gate.example.com' },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    providers: { corp: { issuer: 'https://login.example.com', audiences: ['gh'] } },
    session: {
      secrets: ['config-test-secret-0123456789abcdef-0123'],
      store: 'redis',
      redis: { url: 'redis://127.0.0.1:6379', ...redis },
      login: { provider: 'corp', client_id: 'gh', client_secret: 'shh' },
    },
    routes: [{ upstream: 'app', auth: 'session', allow: 'authenticated' }],
  });
  const store = (redis: Record<string, unknown>) =>
    storeConfigOf((validateConfig(doc(redis)) as { session: SessionConfig }).session);
  const problems = (redis: Record<string, unknown>): string[] => {
    try {
      validateConfig(doc(redis));
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e.problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  test('on by default (2 s, 10 000 entries); false turns it off; values are taken', () => {
    assert.deepEqual(store({}), {
      ...store({ near_cache: false }),
      nearCache: { maxAgeMs: 2000, maxEntries: 10_000 },
    });
    assert.equal((store({ near_cache: false }) as { nearCache: unknown }).nearCache, false);
    assert.deepEqual((store({ near_cache: { max_age: '500ms' } }) as { nearCache: unknown }).nearCache, {
      maxAgeMs: 500,
      maxEntries: 10_000,
    });
  });

  test('errors name the key path', () => {
    const one = (redis: Record<string, unknown>, re: RegExp) => {
      const p = problems(redis);
      assert.ok(
        p.some((x) => re.test(x)),
        `${JSON.stringify(p)} should match ${re}`,
      );
    };
    one(
      { near_cache: { max_age: '2m' } },
      /^session\.redis\.near_cache\.max_age: expected a duration from 1ms to 60s/,
    );
    one(
      { near_cache: { max_age: 'soon' } },
      /^session\.redis\.near_cache\.max_age: expected a duration from 1ms to 60s/,
    );
    one({ near_cache: { max_entries: 0 } }, /^session\.redis\.near_cache\.max_entries: /);
    one({ near_cache: { max_age: '1s', ttl: 3 } }, /^session\.redis\.near_cache\.ttl: unknown key "ttl"/);
    one(
      { near_cache: true },
      /^session\.redis\.near_cache: expected a mapping \(key: value\) or false, got true$/,
    );
    one(
      { near_cache: 'on' },
      /^session\.redis\.near_cache: expected a mapping \(key: value\) or false, got string$/,
    );
  });
});
