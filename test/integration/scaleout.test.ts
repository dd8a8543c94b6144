import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

// Several Gatehouse instances sharing one real Redis behave as one: a global limit holds across
// instances, and a rolling restart behind a load balancer loses no request.
let up: RecordingUpstream;
let redis: RedisServer;

before(async () => {
  // Every response takes ~100 ms, so requests are in flight while an instance shuts down.
  up = await startUpstream((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    }, 100);
  });
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
  await up.close();
});

const config = (port = 0) => ({
  server: { listeners: [{ address: '127.0.0.1', port }], shutdown_timeout: '10s' },
  upstreams: { app: { url: up.url } },
  limits: { store: 'redis', redis: { url: redis.url, key_prefix: `gh-scale-${process.pid}:` } },
  routes: [
    {
      name: 'quota',
      match: { path: '/quota' },
      upstream: 'app',
      auth: 'none',
      limits: [{ name: 'global-quota', quota: '20/hour', key: 'route' }],
    },
    {
      name: 'rate',
      match: { path: '/rate' },
      upstream: 'app',
      auth: 'none',
      limits: [{ name: 'global-rate', rate: '10/min', key: 'route' }],
    },
    {
      name: 'app',
      match: { path: '/' },
      upstream: 'app',
      auth: 'none',
      limits: [{ name: 'roomy', rate: '100000/s', key: 'route' }],
    },
  ],
});

async function redisReady(g: TestGateway): Promise<void> {
  await waitFor(async () => (await send(g.url, '/warmup')).status === 200, 5000, `redis ready on ${g.url}`);
}

test('a global limit holds across two instances sharing Redis (total allowed = the limit)', async () => {
  const a = await startGatehouse(config());
  const b = await startGatehouse(config());
  try {
    await Promise.all([redisReady(a), redisReady(b)]);
    for (const [path, limit] of [
      ['/quota/x', 20],
      ['/rate/x', 10],
    ] as const) {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => send(i % 2 === 0 ? a.url : b.url, path)),
      );
      const allowed = replies.filter((r) => r.status === 200).length;
      const limited = replies.filter((r) => r.status === 429).length;
      assert.equal(
        allowed + limited,
        40,
        `only 200 or 429 on ${path}: ${replies.map((r) => r.status).join()}`,
      );
      assert.equal(allowed, limit, `${path}: ${allowed} allowed across both instances, limit ${limit}`);
      const perInstance = [a, b].map(
        (g) => g.audit.filter((e) => e.path === path && e.status === 200).length,
      );
      assert.ok(
        perInstance.every((n) => n > 0),
        `both instances served part of the budget: ${perInstance.join('+')}`,
      );
      assert.ok(
        perInstance.every((n) => n < limit),
        'no instance had a budget of its own',
      );
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** One request through the test's load balancer: which instance answered, and how. */
interface Outcome {
  status: number;
  attempts: number;
  /** Index of the instance that answered. */
  served: number;
  /** When the answered attempt was sent. */
  start: number;
  end: number;
}

type Attempt = { kind: 'reply'; status: number; body: string } | { kind: 'refused'; code: string };

function attempt(port: number, path: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ kind: 'reply', status: res.statusCode ?? 0, body }));
      res.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ kind: 'reply', status: 0, body: String(e.code) }),
      );
    });
    // Refused or reset before any response byte: the request never reached a handler.
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ kind: 'refused', code: e.code ?? e.message }));
    req.end();
  });
}

/**
 * A tiny round-robin load balancer, as nginx or an L7 cloud LB behave with health checks: a
 * connection refused or reset before any response byte is retried on the next instance. Any
 * answer is final.
 */
class Balancer {
  #next = 0;
  constructor(readonly ports: number[]) {}
  async get(path: string): Promise<Outcome> {
    let start = Date.now();
    for (let attempts = 1; attempts <= 20; attempts++) {
      const i = this.#next++ % this.ports.length;
      start = Date.now();
      const r = await attempt(this.ports[i] as number, path);
      if (r.kind === 'reply') return { status: r.status, attempts, served: i, start, end: Date.now() };
      await sleep(5);
    }
    return { status: 0, attempts: 20, served: -1, start, end: Date.now() };
  }
}

test('rolling restart: closing an instance while requests are in flight loses none', async () => {
  const portA = await freePort();
  let a = await startGatehouse(config(portA));
  const b = await startGatehouse(config());
  await Promise.all([redisReady(a), redisReady(b)]);
  const lb = new Balancer([portA, b.port]);
  const outcomes: Outcome[] = [];
  let running = true;
  const workers = Array.from({ length: 8 }, async (_, w) => {
    for (let n = 0; running; n++) outcomes.push(await lb.get(`/orders/${w}-${n}`));
  });
  await sleep(400);
  const first = a;
  const closeAt = Date.now();
  const inFlightOnA = first.audit.length;
  await first.close();
  const servedByOldA = first.audit.length - inFlightOnA;
  const answeredByOldA = first.audit.length;
  a = await startGatehouse(config(portA));
  await redisReady(a);
  await sleep(500);
  running = false;
  await Promise.all(workers);
  try {
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
    assert.ok(outcomes.length > 30, `a steady stream: ${outcomes.length} requests`);
    const spanning = outcomes.filter((o) => o.served === 0 && o.start < closeAt && o.end > closeAt);
    assert.ok(spanning.length > 0 && servedByOldA > 0, 'requests were in flight on A when it was closed');
    assert.equal(
      first.audit.length,
      answeredByOldA,
      'close() resolved only once A had answered all it accepted',
    );
    assert.ok(
      first.audit.every((e) => e.status === 200 || e.path === '/warmup'),
      'A answered every request it accepted with 200, none with 503',
    );
    assert.ok(
      a.audit.some((e) => e.path?.startsWith('/orders/')),
      "the restarted A' takes traffic again",
    );
    assert.ok(
      b.audit.some((e) => e.path?.startsWith('/orders/')),
      "b.audit.some((e) => e.path?.startsWith('/orders/'))",
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
