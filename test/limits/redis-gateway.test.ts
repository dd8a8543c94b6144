import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

let up: RecordingUpstream;
let redis: RedisServer;
let gh1: TestGateway;
let gh2: TestGateway;

before(async () => {
  up = await startUpstream();
  redis = await startRedis();
  const config = {
    upstreams: { app: { url: up.url } },
    limits: { store: 'redis', redis: { url: redis.url, key_prefix: `gh-${process.pid}:` } },
    routes: [
      {
        name: 'global',
        match: { path: '/global' },
        upstream: 'app',
        auth: 'none',
        limits: [{ name: 'global', rate: '10/min', key: 'route' }],
      },
      {
        name: 'smooth',
        match: { path: '/smooth' },
        upstream: 'app',
        auth: 'none',
        limits: [{ name: 'smooth', rate: '1000/s', key: 'ip' }],
      },
      {
        name: 'quota',
        match: { path: '/quota' },
        upstream: 'app',
        auth: 'none',
        limits: [{ name: 'q', quota: '3/hour', key: 'ip' }],
      },
      {
        name: 'open-quota',
        match: { path: '/open' },
        upstream: 'app',
        auth: 'none',
        limits: [{ name: 'oq', quota: '1000/hour', key: 'ip', on_store_error: 'fail_open' }],
      },
    ],
  };
  gh1 = await startGatehouse(config);
  gh2 = await startGatehouse(config);
  await waitFor(
    async () =>
      (await send(gh1.url, '/smooth')).status === 200 && (await send(gh2.url, '/smooth')).status === 200,
    5000,
    'redis ready',
  );
});
after(async () => {
  await gh1.close();
  await gh2.close();
  await redis.stop();
  await up.close();
});

test('two instances sharing Redis enforce one global limit', async () => {
  const statuses = await Promise.all(
    Array.from({ length: 30 }, (_, i) => send(i % 2 ? gh1.url : gh2.url, '/global').then((r) => r.status)),
  );
  assert.equal(
    statuses.filter((s) => s === 200).length,
    10,
    `exactly the burst passes across both instances: ${statuses.join(',')}`,
  );
  assert.equal(statuses.filter((s) => s === 429).length, 20);
});

test('Redis down: rates fail open, quotas fail closed (503), logged without flooding; recovery is automatic', async () => {
  assert.equal((await send(gh1.url, '/quota')).status, 200);
  await redis.stop();
  await waitFor(
    async () => (await send(gh1.url, '/quota')).status === 503,
    5000,
    'gatehouse notices redis is gone',
  );

  const smooth = await send(gh1.url, '/smooth');
  assert.equal(smooth.status, 200, 'a smoothing limit fails open by default');
  assert.ok(
    gh1.audit.at(-1)?.reasons.includes('limit.store_error:smooth'),
    'the fail-open is visible in the audit',
  );

  const q = await send(gh1.url, '/quota');
  assert.equal(q.status, 503);
  assert.equal(q.json().error, 'GH_LIMIT_STORE_UNAVAILABLE');
  assert.equal(q.headers['retry-after'], '1');

  assert.equal(
    (await send(gh1.url, '/open')).status,
    200,
    'on_store_error: fail_open overrides the quota default',
  );

  for (let i = 0; i < 20; i++) await send(gh1.url, '/quota');
  const lines = gh1.logs.filter((l) => l['msg'] === 'limit store unavailable: applying on_store_error');
  assert.ok(
    lines.length >= 1 && lines.length <= 2,
    `store errors are logged, at most once per 10 s (${lines.length} lines)`,
  );

  await redis.restart();
  await waitFor(
    async () => (await send(gh1.url, '/quota')).status !== 503,
    8000,
    'gatehouse reconnects to redis',
  );
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(gh1.url, '/quota')).status);
  assert.deepEqual(
    statuses,
    [200, 200, 429],
    'counting resumes in the restarted (empty) Redis: quota 3, one used by the probe',
  );
});
