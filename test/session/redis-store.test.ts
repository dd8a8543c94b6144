import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { isGatehouseError } from '../../src/errors/index.js';
import type { SessionStore } from '../../src/session/store.js';
import { createSessionStore } from '../../src/session/create-store.js';
import { RedisSessionStore } from '../../src/session/redis-store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { sessionStoreConformance } from './conformance.js';

const silent = pino({ level: 'silent' });
let redis: RedisServer;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

/** Two clients (two "Gatehouse instances") on one redis-server, isolated per test by key prefix. */
sessionStoreConformance('redis', async () => {
  const prefix = `gh-test-${randomBytes(4).toString('hex')}:`;
  const store = createSessionStore({ store: 'redis', url: redis.url, prefix, nearCache: false }, silent);
  const peer = createSessionStore({ store: 'redis', url: redis.url, prefix, nearCache: false }, silent);
  return {
    store,
    peer,
    close: async () => {
      await store.close();
      await peer.close();
    },
  };
});

/**
 * The same with the near cache on both instances, once it is active. Its max age (60 s) is far
 * longer than any test waits: a peer's change is seen only through the published invalidation.
 */
sessionStoreConformance('redis near-cached', async () => {
  const prefix = `gh-test-${randomBytes(4).toString('hex')}:`;
  const cfg = {
    store: 'redis',
    url: redis.url,
    prefix,
    nearCache: { maxAgeMs: 60_000, maxEntries: 1000 },
  } as const;
  const store = new RedisSessionStore(cfg, silent);
  const peer = new RedisSessionStore(cfg, silent);
  await waitFor(() => store.nearCacheActive && peer.nearCacheActive, 10_000, 'near caches to subscribe');
  return {
    store,
    peer,
    eventual: true,
    close: async () => {
      await store.close();
      await peer.close();
    },
  };
});

test('redis store: keys are prefixed, hold JSON and expire in redis itself', async () => {
  const store = createSessionStore({ store: 'redis', url: redis.url, prefix: 'acme:' }, silent);
  const raw = new Redis(redis.url);
  try {
    await store.set('abc', { sub: 'alice' }, 30_000);
    await store.index('sub:alice', 'abc', 30_000);
    assert.equal(await raw.get('acme:s:abc'), '{"sub":"alice"}');
    const pttl = await raw.pttl('acme:s:abc');
    assert.ok(pttl > 25_000 && pttl <= 30_000, `pttl ${pttl}`);
    assert.deepEqual(await raw.smembers('acme:i:sub:alice'), ['abc']);
    assert.ok((await raw.pttl('acme:i:sub:alice')) > 25_000, "(await raw.pttl('acme:i:sub:alice')) > 25_000");
    assert.equal(await raw.exists('abc'), 0);
  } finally {
    await store.close();
    raw.disconnect();
  }
});

async function expectUnavailable(p: Promise<unknown>, maxMs: number): Promise<void> {
  const t0 = Date.now();
  await assert.rejects(
    p,
    (e: unknown) => isGatehouseError(e, 'GH_SESSION_STORE_UNAVAILABLE') && e.status === 503,
  );
  const ms = Date.now() - t0;
  assert.ok(ms < maxMs, `took ${ms} ms to fail`);
}

test('redis store: an unreachable redis fails fast with GH_SESSION_STORE_UNAVAILABLE (503)', async () => {
  const port = await freePort(); // nothing listens here
  const store = createSessionStore(
    { store: 'redis', url: `redis://127.0.0.1:${port}`, timeoutMs: 500 },
    silent,
  );
  try {
    await expectUnavailable(store.get('x'), 300);
    await expectUnavailable(store.set('x', { a: 1 }, 1000), 300);
    await expectUnavailable(
      store.withLock('k', 1000, 1000, async () => 'never'),
      300,
    );
  } finally {
    await store.close();
  }
});

test('redis store: a redis outage fails requests immediately, and the store recovers when redis is back', async () => {
  const own = await startRedis();
  let store: SessionStore | undefined;
  try {
    store = createSessionStore({ store: 'redis', url: own.url, timeoutMs: 500 }, silent);
    await store.set('s1', { v: 1 }, 60_000);
    await own.stop(true);
    await expectUnavailable(store.get('s1'), 300);
    await expectUnavailable(store.deleteByIndex('sub:x'), 300);
    await own.restart();
    const s = store;
    await waitFor(
      async () => (await s.get('s1').catch(() => 'down')) !== 'down',
      10_000,
      'store to reconnect',
    );
    assert.equal(
      await store.get('s1'),
      undefined,
      'the restarted server has no data (no persistence in the test)',
    );
    await store.set('s2', { v: 2 }, 60_000);
    assert.deepEqual(await store.get('s2'), { v: 2 });
  } finally {
    await store?.close();
    await own.stop();
  }
});

test('redis store: a redis that stops answering times out with GH_SESSION_STORE_UNAVAILABLE instead of hanging', async () => {
  const store = createSessionStore(
    // No near cache: a paused redis (connections up) lets it serve recent reads, see near-cache.test.ts.
    { store: 'redis', url: redis.url, prefix: 'pause:', timeoutMs: 200, nearCache: false },
    silent,
  );
  const raw = new Redis(redis.url);
  try {
    await store.set('s1', { v: 1 }, 60_000);
    await raw.call('CLIENT', 'PAUSE', '1000', 'ALL');
    await expectUnavailable(store.get('s1'), 700);
    await raw.call('CLIENT', 'UNPAUSE');
    assert.deepEqual(await store.get('s1'), { v: 1 }, 'works again once redis answers');
  } finally {
    await store.close();
    raw.disconnect();
  }
});
