/**
 * The one conformance suite every SessionStore implementation must pass. Each test gets a fresh
 * pair of stores on one backend: `store` and `peer` play two Gatehouse instances (for Redis two
 * clients on the same server; for the in-memory store, a single instance serves as both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isGatehouseError } from '../../src/errors/index.js';
import type { SessionData, SessionStore } from '../../src/session/store.js';

export interface StorePair {
  readonly store: SessionStore;
  readonly peer: SessionStore;
  /**
   * A write on one instance reaches the other's reads once its invalidation message arrived
   * (near cache: sub-millisecond, but not before the writer's own call returns), instead of at once.
   */
  readonly eventual?: boolean;
  close(): Promise<void>;
}

export type StorePairFactory = () => Promise<StorePair>;

async function withPair(factory: StorePairFactory, fn: (p: StorePair) => Promise<void>): Promise<void> {
  const p = await factory();
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

const SAMPLE: SessionData = {
  sub: 'alice',
  name: 'Alice Ä. Ø 雪 😀',
  groups: ['staff', 'admins'],
  exp: 1_900_000_000,
  refresh: 'r'.repeat(2000),
  nested: { a: [1, 2.5, { b: null }], t: true, f: false },
  empty: '',
};

/**
 * Asserts that `s.get(id)` deep-equals `expected`: at once, or for an `eventual` pair within a few
 * seconds (a near-cached pair is built with a max age far longer than that, so only the
 * invalidation can make it pass).
 */
async function seen(
  p: StorePair,
  s: SessionStore,
  id: string,
  expected: SessionData | undefined,
): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const got = await s.get(id);
    try {
      assert.deepEqual(got, expected);
      return;
    } catch (e) {
      if (!p.eventual || Date.now() > deadline) throw e;
      await sleep(5);
    }
  }
}

/** Registers the shared conformance tests for the store `kind` built by `factory`. */
export function sessionStoreConformance(kind: string, factory: StorePairFactory): void {
  const t = (name: string, fn: (p: StorePair) => Promise<void>) =>
    test(`${kind} store: ${name}`, () => withPair(factory, fn));

  t('unknown ids are absent', async ({ store }) => {
    assert.equal(await store.get('no-such-session'), undefined);
  });

  t('set then get returns the same value on both instances', async ({ store, peer }) => {
    await store.set('s1', SAMPLE, 60_000);
    assert.deepEqual(await store.get('s1'), SAMPLE);
    assert.deepEqual(await peer.get('s1'), SAMPLE);
  });

  t('values are copies: mutating what was stored or read changes nothing', async ({ store }) => {
    const input: SessionData = { groups: ['a'] };
    await store.set('s1', input, 60_000);
    (input.groups as string[]).push('injected');
    const read = (await store.get('s1')) as SessionData;
    (read.groups as string[]).push('also-injected');
    assert.deepEqual(await store.get('s1'), { groups: ['a'] });
  });

  t('set overwrites and delete removes (on the other instance too)', async (p) => {
    const { store, peer } = p;
    await store.set('s1', { v: 1 }, 60_000);
    assert.deepEqual(await store.get('s1'), { v: 1 });
    await peer.set('s1', { v: 2 }, 60_000);
    await seen(p, store, 's1', { v: 2 });
    await peer.delete('s1');
    await seen(p, store, 's1', undefined);
    await store.delete('never-existed');
  });

  t('take is single-use: of concurrent takers on both instances exactly one gets the record', async (p) => {
    const { store, peer } = p;
    await store.set('code', { h: 'a.example' }, 60_000);
    const got = await Promise.all([
      store.take('code'),
      peer.take('code'),
      store.take('code'),
      peer.take('code'),
    ]);
    assert.deepEqual(
      got.filter((g) => g !== undefined),
      [{ h: 'a.example' }],
    );
    await seen(p, store, 'code', undefined);
    assert.equal(await peer.take('never-existed'), undefined);
    await store.set('short', { v: 1 }, 80);
    await sleep(200);
    assert.equal(await peer.take('short'), undefined, 'an expired record is never taken');
  });

  t('records expire after their ttl', async ({ store, peer }) => {
    await store.set('short', { v: 1 }, 120);
    await store.set('long', { v: 2 }, 60_000);
    assert.deepEqual(await peer.get('short'), { v: 1 });
    await sleep(250);
    assert.equal(await store.get('short'), undefined);
    assert.equal(await peer.get('short'), undefined);
    assert.deepEqual(await store.get('long'), { v: 2 });
  });

  t('set with a new ttl extends the record', async ({ store }) => {
    await store.set('s1', { v: 1 }, 150);
    await store.set('s1', { v: 2 }, 60_000);
    await sleep(250);
    assert.deepEqual(await store.get('s1'), { v: 2 });
  });

  t('deleteByIndex ends every session of an index and only those', async (p) => {
    const { store, peer } = p;
    for (const id of ['a1', 'a2', 'b1']) await store.set(id, { id }, 60_000);
    for (const id of ['a1', 'a2', 'b1']) assert.deepEqual(await store.get(id), { id });
    await store.index('sub:alice', 'a1', 60_000);
    await peer.index('sub:alice', 'a2', 60_000);
    await store.index('sub:bob', 'b1', 60_000);
    assert.equal(await peer.deleteByIndex('sub:alice'), 2);
    await seen(p, store, 'a1', undefined);
    await seen(p, store, 'a2', undefined);
    assert.deepEqual(await store.get('b1'), { id: 'b1' });
    assert.equal(await store.deleteByIndex('sub:alice'), 0, 'a second logout finds nothing');
    assert.equal(await store.deleteByIndex('sid:unknown'), 0);
  });

  t('deleteByIndex does not count sessions that already ended', async ({ store }) => {
    await store.set('gone', { v: 1 }, 60_000);
    await store.set('expired', { v: 2 }, 50);
    await store.set('live', { v: 3 }, 60_000);
    for (const id of ['gone', 'expired', 'live']) await store.index('sid:x', id, 60_000);
    await store.delete('gone');
    await sleep(150);
    assert.equal(await store.deleteByIndex('sid:x'), 1);
    assert.equal(await store.get('live'), undefined);
  });

  t('index entries expire with their ttl', async ({ store }) => {
    await store.set('s1', { v: 1 }, 60_000);
    await store.index('sub:carol', 's1', 100);
    await sleep(250);
    assert.equal(await store.deleteByIndex('sub:carol'), 0);
    assert.deepEqual(await store.get('s1'), { v: 1 }, 'the session itself is untouched');
  });

  t('withLock is mutually exclusive across instances and returns the result', async ({ store, peer }) => {
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    const run = (s: SessionStore, i: number) =>
      s.withLock('refresh:s1', 5_000, 5_000, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(20);
        order.push(i);
        inside--;
        return i * 10;
      });
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => run(i % 2 === 0 ? store : peer, i)));
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50]);
    assert.equal(maxInside, 1, 'two holders of the same lock ran at once');
    assert.equal(order.length, 6);
  });

  t('locks on different keys do not block each other', async ({ store, peer }) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = store.withLock('k1', 5_000, 5_000, () => gate);
    const t0 = Date.now();
    await peer.withLock('k2', 5_000, 200, async () => undefined);
    assert.ok(Date.now() - t0 < 200, 'Date.now() - t0 < 200');
    release();
    await first;
  });

  t('a waiter gives up with GH_SESSION_LOCK_TIMEOUT after waitMs', async ({ store, peer }) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const holder = store.withLock('k', 10_000, 1_000, () => gate);
    await sleep(20);
    const t0 = Date.now();
    let ran = false;
    await assert.rejects(
      peer.withLock('k', 10_000, 100, async () => {
        ran = true;
      }),
      (e: unknown) => isGatehouseError(e, 'GH_SESSION_LOCK_TIMEOUT') && e.status === 503,
    );
    const waited = Date.now() - t0;
    assert.ok(waited >= 90 && waited < 1_000, `waited ${waited} ms`);
    assert.equal(ran, false);
    release();
    await holder;
    assert.equal(await peer.withLock('k', 1_000, 100, async () => 'free again'), 'free again');
  });

  t('a crashed holder cannot block forever: the lock expires after ttlMs', async ({ store, peer }) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = store.withLock('k', 80, 1_000, () => gate);
    await sleep(10);
    const t0 = Date.now();
    let releaseSecond!: () => void;
    const gate2 = new Promise<void>((r) => (releaseSecond = r));
    let secondIn = false;
    const second = peer.withLock('k', 10_000, 2_000, async () => {
      secondIn = true;
      await gate2;
    });
    while (!secondIn) await sleep(5);
    assert.ok(Date.now() - t0 < 1_000, 'Date.now() - t0 < 1_000');
    // The first holder finishing late must not release the lock the second one now holds.
    release();
    await slow;
    await assert.rejects(
      store.withLock('k', 1_000, 60, async () => undefined),
      (e: unknown) => isGatehouseError(e, 'GH_SESSION_LOCK_TIMEOUT'),
    );
    releaseSecond();
    await second;
  });

  t('an error inside withLock propagates unchanged and releases the lock', async ({ store, peer }) => {
    const boom = new Error('refresh failed');
    await assert.rejects(
      store.withLock('k', 10_000, 100, async () => {
        throw boom;
      }),
      (e: unknown) => e === boom,
    );
    const t0 = Date.now();
    assert.equal(await peer.withLock('k', 10_000, 100, async () => 'ok'), 'ok');
    assert.ok(Date.now() - t0 < 100, 'Date.now() - t0 < 100');
  });
}
