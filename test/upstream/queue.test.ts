import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { send, type Reply } from '../helpers/http.js';
import { watchWire } from '../helpers/wire.js';
import { WaitQueue, type Waiter } from '../../src/upstream/h1/wait-queue.js';

/** An upstream that answers only when told to. */
async function holdingUpstream() {
  const held: ServerResponse[] = [];
  const up = await startUpstream((_req, res) => void held.push(res));
  const releaseAll = () => {
    for (const res of held.splice(0)) res.end('done');
  };
  return { up, held, releaseAll };
}

async function until(probe: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !probe();) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('all connections busy and the queue full: 503 GH_UPSTREAM_BUSY at once, with Retry-After, audited', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const wire = watchWire(up.server);
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url, max_connections: 1, max_queue: 1, timeouts: { queue: '10s' } } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const first = send(gh.url, '/first');
    await until(() => held.length === 1);
    const queued = send(gh.url, '/queued');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const refused = await send(gh.url, '/refused');
    assert.ok(performance.now() - t0 < 500, 'refused without waiting');
    assert.equal(refused.status, 503);
    assert.equal(refused.json().error, 'GH_UPSTREAM_BUSY');
    assert.equal(refused.headers['retry-after'], '1');
    const ev = gh.audit.find((e) => e.error === 'GH_UPSTREAM_BUSY');
    assert.equal(ev?.status, 503);
    releaseAll();
    assert.equal((await first).status, 200);
    await until(() => held.length === 1);
    releaseAll();
    assert.equal((await queued).status, 200, 'the queued request got the connection when it was free');
    assert.deepEqual(
      up.received.map((r) => r.url),
      ['/first', '/queued'],
    );
    assert.equal(wire.maxOpen, 1);
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

test('no connection free within timeouts.queue: 503 GH_UPSTREAM_QUEUE_TIMEOUT, nothing sent upstream', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url, max_connections: 2, timeouts: { queue: '300ms' } } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const busy = [send(gh.url, '/a'), send(gh.url, '/b')];
    await until(() => held.length === 2);
    const t0 = performance.now();
    const waits: Reply[] = await Promise.all([
      send(gh.url, '/c'),
      send(gh.url, '/d', { method: 'POST', body: 'x' }),
    ]);
    const waited = performance.now() - t0;
    assert.ok(waited >= 250 && waited < 2000, `waited ${waited} ms`);
    for (const r of waits) {
      assert.equal(r.status, 503);
      assert.equal(r.json().error, 'GH_UPSTREAM_QUEUE_TIMEOUT');
      assert.equal(r.headers['retry-after'], '1');
    }
    releaseAll();
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200);
    assert.deepEqual(up.received.map((r) => r.url).sort(), ['/a', '/b']);
    assert.equal(
      gh.audit.filter((e) => e.error === 'GH_UPSTREAM_QUEUE_TIMEOUT').length,
      2,
      'both timeouts audited',
    );
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

test('max_queue: 0 — nobody waits', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url, max_connections: 1, max_queue: 0 } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const first = send(gh.url, '/first');
    await until(() => held.length === 1);
    const r = await send(gh.url, '/second');
    assert.equal(r.status, 503);
    assert.equal(r.json().error, 'GH_UPSTREAM_BUSY');
    releaseAll();
    assert.equal((await first).status, 200);
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// WaitQueue on its own

class W implements Waiter {
  done = false;
  queuedAt = 0;
  failed: Error | undefined;
  constructor(readonly name: string) {}
  fail(err: Error): void {
    this.done = true;
    this.failed = err;
  }
}

const failure = (w: W): string | undefined => w.failed?.message;

test('WaitQueue: first in first out, bounded, ended waiters skipped and pruned when full', () => {
  const q = new WaitQueue<W>(2, 0);
  const [a, b, c] = [new W('a'), new W('b'), new W('c')];
  assert.equal(q.push(a, 0), true);
  assert.equal(q.push(b, 0), true);
  assert.equal(q.push(c, 0), false, 'full');
  a.done = true;
  assert.equal(q.push(c, 0), true, 'an ended waiter makes room');
  assert.equal(q.shift(), b);
  assert.equal(q.shift(), c);
  assert.equal(q.shift(), undefined);
});

test('WaitQueue: expire fails the waiters that waited timeout or longer, in order, and stops at the first younger one', () => {
  const q = new WaitQueue<W>(10, 100);
  const [a, b, c] = [new W('a'), new W('b'), new W('c')];
  q.push(a, 0);
  q.push(b, 50);
  q.push(c, 120);
  q.expire(99, () => new Error('late'));
  assert.deepEqual([a, b, c].map(failure), [undefined, undefined, undefined]);
  q.expire(150, () => new Error('late'));
  assert.deepEqual([a, b, c].map(failure), ['late', 'late', undefined]);
  assert.equal(q.length, 1);
  assert.equal(q.shift(), c);
});

test('WaitQueue: timeout 0 never expires', () => {
  const q = new WaitQueue<W>(10, 0);
  const a = new W('a');
  q.push(a, 0);
  q.expire(1e12, () => new Error('late'));
  assert.equal(failure(a), undefined);
  assert.equal(q.shift(), a);
});

test('farm: a target whose connections and queue are full passes the request to another target', async () => {
  const busy = await holdingUpstream();
  const free = await startUpstream();
  const gh = await startGatehouse({
    upstreams: {
      farm: {
        targets: [{ url: busy.up.url }, { url: free.url }],
        max_connections: 1,
        max_queue: 0,
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  try {
    const first = send(gh.url, '/first'); // round robin: the holding target
    await until(() => busy.held.length === 1);
    assert.equal((await send(gh.url, '/second')).status, 200, 'the free target');
    const third = await send(gh.url, '/third'); // the holding target again: full, so the free one
    assert.equal(third.status, 200);
    assert.equal(busy.held.length, 1, 'the busy target never saw the third request');
    assert.ok(
      gh.audit.some((e) => e.path === '/third' && e.reasons?.includes('upstream.retried')),
      'audited as retried',
    );
    busy.releaseAll();
    assert.equal((await first).status, 200);
  } finally {
    busy.releaseAll();
    await gh.close();
    await busy.up.close();
    await free.close();
  }
});
