import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer, type BalanceMode } from '../../src/upstream/farm/balancer.js';
import { FarmTarget } from '../../src/upstream/farm/target.js';
import type { H1Pool } from '../../src/upstream/h1/client.js';
import type { UpstreamTarget } from '../../src/upstream/target.js';
import type { RequestContext } from '../../src/pipeline/context.js';

// The balancers on their own: which target each pick returns, with no network involved.

const policy = { maxFailures: 2, count5xx: true, coolDown: 1000 };

function targets(weights: number[]): FarmTarget[] {
  return weights.map(
    (w, i) => new FarmTarget(`http://10.0.0.${i + 1}:80`, i, w, {} as H1Pool, {} as UpstreamTarget, policy),
  );
}

function ctxFor(subject: string | undefined, clientIp = '192.0.2.1'): RequestContext {
  const principal = subject === undefined ? undefined : { provider: 'apikey', subject };
  return { principal, clientIp } as unknown as RequestContext;
}

function picks(mode: BalanceMode, ts: FarmTarget[], n: number, ctx?: RequestContext): number[] {
  const b = createBalancer(mode, ts, 'client_ip');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(b.pick(ctx, 0, Date.now())?.index ?? -1);
  return out;
}

test('smooth weighted round robin: 5:1:1 interleaves (never five in a row) and keeps the ratio', () => {
  assert.deepEqual(picks('round_robin', targets([5, 1, 1]), 7), [0, 0, 1, 0, 2, 0, 0]);
  const counts = [0, 0, 0];
  for (const i of picks('round_robin', targets([3, 2, 1]), 600)) counts[i] = (counts[i] ?? 0) + 1;
  assert.deepEqual(counts, [300, 200, 100]);
});

test('round robin skips tried and unavailable targets; none left → undefined', () => {
  const ts = targets([1, 1, 1]);
  const b = createBalancer('round_robin', ts, 'client_ip');
  (ts[1] as FarmTarget).up = false;
  const seen = new Set<number>();
  for (let i = 0; i < 10; i++) seen.add(b.pick(undefined, 0, Date.now())?.index ?? -1);
  assert.deepEqual([...seen].sort(), [0, 2]);
  assert.equal(b.pick(undefined, 0b101, Date.now()), undefined);
  assert.equal(b.pick(undefined, 0b001, Date.now())?.index, 2);
});

test('least in flight: the idle target wins, ties alternate, weight scales the count', () => {
  const ts = targets([1, 1]);
  const b = createBalancer('least_in_flight', ts, 'client_ip');
  (ts[0] as FarmTarget).inFlight = 3;
  for (let i = 0; i < 5; i++) assert.equal(b.pick(undefined, 0, Date.now())?.index, 1);
  (ts[0] as FarmTarget).inFlight = 0;
  const alternate = [0, 1, 2, 3].map(() => b.pick(undefined, 0, Date.now())?.index);
  assert.deepEqual(new Set(alternate), new Set([0, 1]));
  const w = targets([4, 1]);
  (w[0] as FarmTarget).inFlight = 3; // (3 + 1) / 4 = 1
  (w[1] as FarmTarget).inFlight = 1; // (1 + 1) / 1 = 2: the heavier target wins with more in flight
  assert.equal(createBalancer('least_in_flight', w, 'client_ip').pick(undefined, 0, Date.now())?.index, 0);
});

test('sticky: a principal keeps its target, moves only when it is unavailable, and comes back', () => {
  const ts = targets([1, 1, 1]);
  const b = createBalancer('sticky', ts, 'client_ip');
  const home = new Map<string, number>();
  for (let u = 0; u < 60; u++) {
    const ctx = ctxFor(`user-${u}`);
    const first = b.pick(ctx, 0, Date.now())?.index ?? -1;
    for (let k = 0; k < 5; k++) assert.equal(b.pick(ctx, 0, Date.now())?.index, first);
    home.set(`user-${u}`, first);
  }
  // Spread: every target is someone's home.
  assert.equal(new Set(home.values()).size, 3);
  (ts[0] as FarmTarget).up = false;
  for (const [user, h] of home) {
    const now = b.pick(ctxFor(user), 0, Date.now())?.index;
    if (h === 0) assert.notEqual(now, 0);
    else assert.equal(now, h, 'users of healthy targets do not move');
  }
  (ts[0] as FarmTarget).up = true;
  for (const [user, h] of home) assert.equal(b.pick(ctxFor(user), 0, Date.now())?.index, h);
});

test('sticky without principal: by client address, or round robin with sticky_fallback', () => {
  const ts = targets([1, 1]);
  const byIp = createBalancer('sticky', ts, 'client_ip');
  const a = byIp.pick(ctxFor(undefined, '198.51.100.7'), 0, Date.now())?.index;
  for (let i = 0; i < 5; i++)
    assert.equal(byIp.pick(ctxFor(undefined, '198.51.100.7'), 0, Date.now())?.index, a);
  const rr = createBalancer('sticky', ts, 'round_robin');
  const seen = new Set([0, 1, 2, 3].map(() => rr.pick(ctxFor(undefined), 0, Date.now())?.index));
  assert.equal(seen.size, 2);
});

test('passive ejection: max_failures consecutive failures eject until the cool-down ends', () => {
  const [t] = targets([1]) as [FarmTarget];
  t.failed();
  t.responded(200); // a success resets the count
  t.failed();
  assert.equal(t.available(Date.now()), true);
  t.responded(503); // 5xx counts: second consecutive failure
  assert.equal(t.available(Date.now()), false);
  assert.equal(t.ejections, 1);
  assert.equal(t.available(t.ejectedUntil), true, 'tried again after the cool-down');
  t.failed(); // still failing: ejected again at once
  assert.equal(t.available(Date.now()), false);
  assert.equal(t.ejections, 2);
});
