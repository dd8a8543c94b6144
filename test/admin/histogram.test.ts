import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BUCKETS, bucketOf, quantile, TopK, valueOf } from '../../src/admin/histogram.js';

test('latency buckets: monotonic, every value within ±13 % of its bucket value between 0.02 ms and 40 s', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.03, max: 40_000, noNaN: true }),
      fc.double({ min: 0.03, max: 40_000, noNaN: true }),
      (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        assert.ok(bucketOf(lo) <= bucketOf(hi), 'bucketOf(lo) <= bucketOf(hi)');
        const i = bucketOf(a);
        if (i > 0 && i < BUCKETS - 1)
          assert.ok(Math.abs(valueOf(i) - a) / a <= 0.13, `${a} -> ${valueOf(i)}`);
      },
    ),
  );
});

test('quantiles of a histogram match the exact quantiles within the bucket error', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0.05, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
      (xs) => {
        const h = new Uint32Array(BUCKETS);
        for (const x of xs) h[bucketOf(x)] = (h[bucketOf(x)] as number) + 1;
        const sorted = [...xs].sort((a, b) => a - b);
        for (const q of [0.5, 0.95, 0.99]) {
          const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
          const est = quantile(h, q) as number;
          assert.ok(Math.abs(est - exact) / exact <= 0.14, `q${q}: ${est} vs ${exact}`);
        }
      },
    ),
  );
  assert.equal(quantile(new Uint32Array(BUCKETS), 0.5), null);
});

test('space-saving top-k keeps every key above total/k, with counts that never undercount', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 2000 }), (keys) => {
      const k = 20;
      const t = new TopK(k);
      const exact = new Map<string, number>();
      for (const n of keys) {
        t.add(`k${n}`);
        exact.set(`k${n}`, (exact.get(`k${n}`) ?? 0) + 1);
      }
      const got = new Map<string, number>();
      t.mergeInto(got);
      assert.ok(got.size <= k, 'got.size <= k');
      for (const [key, c] of exact) {
        if (c > keys.length / k) assert.ok(got.has(key), `${key} (${c} of ${keys.length}) kept`);
        if (got.has(key)) assert.ok((got.get(key) as number) >= c, 'upper bound');
      }
    }),
  );
});
