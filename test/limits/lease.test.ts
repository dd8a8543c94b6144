import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { MemoryLimitStore } from '../../src/limits/memory-store.js';
import { RedisLimitStore } from '../../src/limits/redis-store.js';
import { LeasedLimitStore, leaseSize, type LeasePolicy } from '../../src/limits/lease.js';
import type { LeaseResult, LimitAlgorithm, TakeResult } from '../../src/limits/algorithms.js';

const POLICY: LeasePolicy = { max: 64, share: 0.01, ttlMs: 1000, maxKeys: 100_000 };

/** A quota of 2000 per hour (lease: 20 tokens). */
const quota: LimitAlgorithm = { algo: 'fixed', intervalMs: 0, limit: 2000, windowMs: 3_600_000 };
/** A sliding quota of 3000 per hour (lease: 30 tokens). */
const slidingQuota: LimitAlgorithm = { algo: 'sliding', intervalMs: 0, limit: 3000, windowMs: 3_600_000 };
/** A token bucket of 1000 that refills at 10/s: a lease of 10 tokens. */
const rate: LimitAlgorithm = { algo: 'gcra', intervalMs: 100, limit: 1000, windowMs: 100_000 };
/** Small limit (5/min): below 1/share, so no leasing — exact. */
const small: LimitAlgorithm = { algo: 'gcra', intervalMs: 12_000, limit: 5, windowMs: 60_000 };

let redis: RedisServer;
const clients: Redis[] = [];
let n = 0;
const fresh = () => `lease-${process.pid}-${++n}`;

async function client(): Promise<Redis> {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  clients.push(c);
  await c.connect();
  return c;
}

/** A Redis store whose round trips are counted (the figure leases exist to cut). */
class CountingRedisStore extends RedisLimitStore {
  trips = 0;
  override takeUpTo(key: string, lim: LimitAlgorithm, now: number, k: number): Promise<LeaseResult> {
    this.trips++;
    return super.takeUpTo(key, lim, now, k);
  }
}

/** One Gatehouse instance's limit store: its own Redis connection, its own leases. */
async function instance(policy = POLICY): Promise<{ store: LeasedLimitStore; redis: CountingRedisStore }> {
  const r = new CountingRedisStore(await client(), 'gh-lease:');
  return { store: new LeasedLimitStore(r, policy), redis: r };
}

/** `count` concurrent requests on `key`, each at the current time; the allowed ones. */
async function hammer(
  store: LeasedLimitStore,
  key: string,
  lim: LimitAlgorithm,
  count: number,
): Promise<number> {
  const rs = await Promise.all(
    Array.from({ length: count }, () => Promise.resolve(store.take(key, lim, Date.now()))),
  );
  return rs.filter((r: TakeResult) => r.allowed).length;
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await redis.stop();
});

describe('taking n tokens at once: memory and Redis agree', () => {
  const T0 = 60_000_000_000 + 1;
  for (const lim of [quota, slidingQuota, rate]) {
    test(`${lim.algo}: leases of 7 until the budget is gone, then a denial with Retry-After`, async () => {
      const mem = new MemoryLimitStore({ sweepIntervalMs: 0 });
      const red = new RedisLimitStore(await client(), 'gh-lease-conf:');
      const k = fresh();
      const seen: Array<[number, number, number]> = [];
      for (let i = 0; i < Math.ceil(lim.limit / 7) + 1; i++) {
        const a = mem.takeUpTo(k, lim, T0, 7);
        const b = await red.takeUpTo(k, lim, T0, 7);
        assert.deepEqual(b, a, `lease ${i}`);
        seen.push([a.granted, a.remaining, a.retryAfterMs]);
      }
      const granted = seen.reduce((s, [g]) => s + g, 0);
      assert.equal(granted, lim.limit, 'every token of the budget was leased, none twice');
      const last = seen.at(-1) as [number, number, number];
      assert.equal(last[0], 0, 'the budget exhausted: nothing granted');
      assert.ok(last[2] > 0, 'with a wait');
      mem.close();
    });
  }
});

describe('leases across two instances hammering one key', () => {
  test('lease size: a share of the budget, 1 for small limits', () => {
    assert.equal(leaseSize(quota, POLICY), 20);
    assert.equal(leaseSize(rate, POLICY), 10);
    assert.equal(leaseSize(small, POLICY), 1);
    assert.equal(leaseSize({ ...quota, limit: 10_000_000 }, POLICY), 64, 'capped at max');
  });

  test('a quota never over-admits: two instances admit at most its budget, at least budget − 2 leases', async () => {
    const a = await instance();
    const b = await instance();
    const k = fresh();
    const [x, y] = await Promise.all([hammer(a.store, k, quota, 1500), hammer(b.store, k, quota, 1500)]);
    const lease = leaseSize(quota, POLICY);
    assert.ok(x + y <= quota.limit, `admitted ${x + y} ≤ ${quota.limit}`);
    assert.ok(x + y >= quota.limit - 2 * lease, `admitted ${x + y} ≥ ${quota.limit - 2 * lease}`);
    assert.ok(x > 0 && y > 0, 'both instances admitted requests');
    const trips = a.redis.trips + b.redis.trips;
    assert.ok(trips <= Math.ceil(quota.limit / lease) + 4, `${trips} round trips for ${x + y} requests`);
    a.store.close();
    b.store.close();
  });

  test('a sliding quota never over-admits either', async () => {
    const a = await instance();
    const b = await instance();
    const k = fresh();
    const [x, y] = await Promise.all([
      hammer(a.store, k, slidingQuota, 2000),
      hammer(b.store, k, slidingQuota, 2000),
    ]);
    const lease = leaseSize(slidingQuota, POLICY);
    assert.ok(x + y <= slidingQuota.limit, `admitted ${x + y} ≤ ${slidingQuota.limit}`);
    assert.ok(x + y >= slidingQuota.limit - 2 * lease, `admitted ${x + y}`);
    a.store.close();
    b.store.close();
  });

  test('a rate over-admits at most instances × lease beyond the exact bucket', async () => {
    const a = await instance();
    const b = await instance();
    const k = fresh();
    const t0 = Date.now();
    let admitted = 0;
    // Two bursts of 800 per instance, 300 ms apart: the bucket (1000) empties, then refills at 10/s.
    for (let round = 0; round < 2; round++) {
      const [x, y] = await Promise.all([hammer(a.store, k, rate, 800), hammer(b.store, k, rate, 800)]);
      admitted += x + y;
      await new Promise((r) => setTimeout(r, 300));
    }
    const elapsed = Date.now() - t0;
    const exact = rate.limit + Math.floor(elapsed / rate.intervalMs);
    const bound = exact + 2 * leaseSize(rate, POLICY);
    assert.ok(admitted <= bound, `admitted ${admitted} ≤ exact ${exact} + 2 leases = ${bound}`);
    assert.ok(admitted >= rate.limit - 2 * leaseSize(rate, POLICY), `admitted ${admitted}`);
    a.store.close();
    b.store.close();
  });

  test('a client over its limit costs no round trip until Retry-After', async () => {
    const a = await instance();
    const k = fresh();
    await hammer(a.store, k, quota, quota.limit + 50);
    const before = a.redis.trips;
    const r = await a.store.take(k, quota, Date.now());
    assert.equal(r.allowed, false);
    assert.ok(r.retryAfterMs > 0, 'Retry-After is kept');
    assert.equal(a.redis.trips, before, 'the denial was answered locally');
    a.store.close();
  });

  test('small limits stay exact: 5/min across two instances admits exactly 5', async () => {
    const a = await instance();
    const b = await instance();
    const k = fresh();
    const [x, y] = await Promise.all([hammer(a.store, k, small, 10), hammer(b.store, k, small, 10)]);
    assert.equal(x + y, 5);
    a.store.close();
    b.store.close();
  });

  test('Redis down: a key without a lease is an error (on_store_error applies), never an allow', async () => {
    const a = await instance();
    const held = fresh();
    assert.equal((await a.store.take(held, quota, Date.now())).allowed, true);
    await redis.stop();
    try {
      await assert.rejects(async () => a.store.take(fresh(), quota, Date.now()));
      const r = await a.store.take(held, quota, Date.now());
      assert.equal(r.allowed, true, 'tokens already leased stay usable until the lease ends');
    } finally {
      await redis.restart();
      a.store.close();
    }
  });
});
