import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { MemoryLimitStore } from '../../src/limits/memory-store.js';
import { RedisLimitStore } from '../../src/limits/redis-store.js';
import type { LimitStore } from '../../src/limits/store.js';
import type { LimitAlgorithm, TakeResult } from '../../src/limits/algorithms.js';

/** token bucket: 5 per second (one token every 200 ms), bucket of 3 */
const bucket: LimitAlgorithm = { algo: 'gcra', intervalMs: 200, limit: 3, windowMs: 600 };
/** bucket with a rate that does not divide evenly: 3/s, burst 2 */
const odd: LimitAlgorithm = { algo: 'gcra', intervalMs: 1000 / 3, limit: 2, windowMs: 2000 / 3 };
const fixed: LimitAlgorithm = { algo: 'fixed', intervalMs: 0, limit: 4, windowMs: 60_000 };
const sliding: LimitAlgorithm = { algo: 'sliding', intervalMs: 0, limit: 10, windowMs: 60_000 };

/** A time far from any window boundary: 1 000 000 minutes + 1 ms. */
const T0 = 60_000_000_000 + 1;

let n = 0;
const fresh = () => `conf-${process.pid}-${++n}`;

async function takeN(
  s: LimitStore,
  key: string,
  lim: LimitAlgorithm,
  now: number,
  count: number,
): Promise<TakeResult[]> {
  const out: TakeResult[] = [];
  for (let i = 0; i < count; i++) out.push(await s.take(key, lim, now));
  return out;
}

/**
 * The one conformance suite every LimitStore must pass. Times are passed explicitly, so the
 * Redis store is held to exactly the same arithmetic as the memory store.
 */
function conformance(name: string, make: () => LimitStore) {
  describe(`LimitStore conformance: ${name}`, () => {
    test('token bucket: allows the burst at once, then one request per interval', async () => {
      const s = make();
      const k = fresh();
      const burst = await takeN(s, k, bucket, T0, 3);
      assert.deepEqual(
        burst.map((r) => [r.allowed, r.remaining]),
        [
          [true, 2],
          [true, 1],
          [true, 0],
        ],
      );
      const denied = await s.take(k, bucket, T0);
      assert.equal(denied.allowed, false);
      assert.equal(denied.remaining, 0);
      assert.equal(denied.retryAfterMs, 200, 'the next token arrives one interval later');
      assert.equal((await s.take(k, bucket, T0 + 199)).allowed, false);
      const later = await s.take(k, bucket, T0 + 200);
      assert.equal(later.allowed, true);
      assert.equal(later.remaining, 0);
      const full = await s.take(k, bucket, T0 + 10_000);
      assert.equal(full.allowed, true);
      assert.equal(full.remaining, 2, 'an idle bucket refills to its size, not beyond');
      assert.equal(full.resetMs, 200, 'one token short of full: refilled after one interval');
    });

    test('token bucket: a denied request does not consume budget', async () => {
      const s = make();
      const k = fresh();
      await takeN(s, k, bucket, T0, 3);
      for (let i = 0; i < 5; i++) assert.equal((await s.take(k, bucket, T0 + 100)).allowed, false);
      assert.equal(
        (await s.take(k, bucket, T0 + 200)).allowed,
        true,
        'denials did not push the next token further away',
      );
    });

    test('token bucket: fractional intervals are counted without drift', async () => {
      const s = make();
      const k = fresh();
      let allowed = 0;
      for (let t = 0; t < 3000; t += 10) if ((await s.take(k, odd, T0 + t)).allowed) allowed++;
      assert.ok(
        allowed >= 10 && allowed <= 11,
        `3/s with burst 2 over 3 s allows 2 + 9 requests (got ${allowed})`,
      );
    });

    test('fixed window: N per window, reset at the boundary', async () => {
      const s = make();
      const k = fresh();
      const start = 60_000 * 1_000_000;
      const r = await takeN(s, k, fixed, start + 1000, 5);
      assert.deepEqual(
        r.map((x) => x.allowed),
        [true, true, true, true, false],
      );
      assert.equal(r[3]?.remaining, 0);
      assert.equal(r[4]?.retryAfterMs, 59_000, 'retry when the window rolls over');
      assert.equal(r[0]?.resetMs, 59_000);
      assert.equal((await s.take(k, fixed, start + 59_999)).allowed, false);
      const next = await s.take(k, fixed, start + 60_000);
      assert.equal(next.allowed, true);
      assert.equal(next.remaining, 3);
    });

    test('sliding window: the previous window still counts, weighted by overlap', async () => {
      const s = make();
      const k = fresh();
      const start = 60_000 * 2_000_000;
      const first = await takeN(s, k, sliding, start + 30_000, 11);
      assert.equal(first.filter((r) => r.allowed).length, 10);
      assert.equal(first[9]?.remaining, 0);
      // 15 s into the next window, 75 % of the previous 10 still count: 7.5 → 2 more allowed.
      const mid = await takeN(s, k, sliding, start + 75_000, 4);
      assert.deepEqual(
        mid.map((r) => r.allowed),
        [true, true, false, false],
      );
      const wait = mid[2]?.retryAfterMs ?? 0;
      assert.ok(wait > 0 && wait <= 60_000, `retry-after is a positive wait within the window (${wait})`);
      assert.equal(
        (await s.take(k, sliding, start + 75_000 + wait)).allowed,
        true,
        'allowed once retry-after has passed',
      );
      // Two windows later nothing from the past counts.
      const fresh2 = await s.take(k, sliding, start + 180_000);
      assert.equal(fresh2.allowed, true);
      assert.equal(fresh2.remaining, 9);
    });

    test('keys are independent', async () => {
      const s = make();
      const a = fresh();
      const b = fresh();
      await takeN(s, a, bucket, T0, 3);
      assert.equal((await s.take(a, bucket, T0)).allowed, false);
      assert.equal((await s.take(b, bucket, T0)).allowed, true);
    });

    test('concurrent checks never allow more than the budget', async () => {
      const s = make();
      const k = fresh();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => s.take(k, fixed, 60_000 * 3_000_000 + 5)),
      );
      assert.equal(results.filter((r) => r.allowed).length, 4);
    });
  });
}

conformance('memory', () => new MemoryLimitStore({ sweepIntervalMs: 0 }));

let redis: RedisServer;
let client: Redis;
before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
after(async () => {
  client.disconnect();
  await redis.stop();
});
conformance('redis', () => new RedisLimitStore(client, 'gh-test:'));

test('redis store: buckets expire on their own (PEXPIRE)', async () => {
  const s = new RedisLimitStore(client, 'gh-ttl:');
  await s.take('k', bucket, Date.now());
  const ttl = await client.pttl('gh-ttl:rl:k');
  assert.ok(ttl > 0 && ttl <= 200, `a token-bucket key lives until the bucket is full again (pttl ${ttl})`);
  await s.take('q', fixed, Date.now());
  const qttl = await client.pttl('gh-ttl:rl:q');
  assert.ok(qttl > 0 && qttl <= 60_000, `a quota key lives until its window ends (pttl ${qttl})`);
});

test('redis store: works after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
  const s = new RedisLimitStore(client, 'gh-flush:');
  assert.equal((await s.take('k', bucket, T0)).allowed, true);
  await client.script('FLUSH');
  const r = await s.take('k', bucket, T0);
  assert.equal(r.allowed, true);
  assert.equal(r.remaining, 1);
});

test('memory store: bounded; expired buckets are swept, then the oldest are dropped', () => {
  const s = new MemoryLimitStore({ maxKeys: 100, sweepIntervalMs: 0 });
  for (let i = 0; i < 100; i++) s.take(`old${i}`, bucket, T0);
  assert.equal(s.size, 100);
  s.take('new', bucket, T0 + 10_000);
  assert.equal(s.size, 1, 'all old buckets had expired and were swept');
  for (let i = 0; i < 150; i++) s.take(`live${i}`, fixed, T0);
  assert.ok(s.size <= 100, `never more than maxKeys (${s.size})`);
  assert.ok(s.evicted > 0, 's.evicted > 0');
  s.close();
});
