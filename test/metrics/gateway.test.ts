import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import { validateConfig } from '../../src/config/load.js';
import { parseExposition, type Exposition } from './parse.js';

// Prometheus metrics through the real gateway: what an operator's dashboards and alerts read.
const READER = 'ak_reader_9f8e7d6c5b4a39281706f5e4';

let up: RecordingUpstream;
let gh: TestGateway;

function app(req: IncomingMessage, res: ServerResponse): void {
  const body = `hello ${req.url}`;
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60' });
  res.end(body);
}

const config = () => ({
  upstreams: { app: { url: up.url } },
  api_keys: { keys: [{ hash: hashApiKey(READER), client_id: 'reader', roles: ['reader'] }] },
  routes: [
    { name: 'public', match: { path: '/public' }, upstream: 'app', auth: 'none' },
    { name: 'cached', match: { path: '/cached' }, upstream: 'app', auth: 'none', cache: { ttl: '60s' } },
    {
      name: 'limited',
      match: { path: '/limited' },
      upstream: 'app',
      auth: 'apikey',
      allow: 'authenticated',
      limits: [{ name: 'per-client', quota: '2/min', key: 'client_id' }],
    },
    {
      name: 'admin',
      match: { path: '/admin' },
      upstream: 'app',
      auth: 'apikey',
      rules: [{ name: 'admins', effect: 'allow', when: { role: 'admin' } }],
    },
  ],
});

async function scrape(g: TestGateway = gh): Promise<Exposition> {
  await sleep(20);
  const r = await send(g.url, '/.gatehouse/metrics');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body);
}

before(async () => {
  up = await startUpstream(app);
  gh = await startGatehouse(config());
});
after(async () => {
  await gh.close();
  await up.close();
});

const delta = (a: Exposition, b: Exposition, name: string, where: Record<string, string> = {}) =>
  b.value(name, where) - a.value(name, where);

test('request counters and histograms move per request, by route, status class and decision', async () => {
  const a = await scrape();
  for (let i = 0; i < 3; i++) assert.equal((await send(gh.url, '/public/x')).status, 200);
  assert.equal((await send(gh.url, '/admin/users', { headers: { 'x-api-key': READER } })).status, 403);
  assert.equal((await send(gh.url, '/admin/users')).status, 401);
  assert.equal((await send(gh.url, '/nowhere')).status, 404);
  const b = await scrape();
  const req = 'gatehouse_requests_total';
  assert.equal(delta(a, b, req, { route: 'public', status_class: '2xx', decision: 'allow' }), 3);
  assert.equal(delta(a, b, req, { route: 'admin', status_class: '4xx', decision: 'deny' }), 2);
  assert.equal(
    delta(a, b, req, { route: '(none)', status_class: '4xx', decision: 'deny' }),
    1,
    'unmatched requests count too',
  );
  assert.equal(delta(a, b, 'gatehouse_request_duration_seconds_count', { route: 'public' }), 3);
  assert.equal(
    delta(a, b, 'gatehouse_upstream_duration_seconds_count', { route: 'public' }),
    3,
    'forwarded requests',
  );
  assert.equal(
    delta(a, b, 'gatehouse_upstream_duration_seconds_count', { route: 'admin' }),
    0,
    'denied requests never went upstream',
  );
  assert.ok(
    delta(a, b, 'gatehouse_request_duration_seconds_sum', { route: 'public' }) > 0,
    "delta(a, b, 'gatehouse_request_duration_seconds_sum', { route: 'public' }) > 0",
  );
  assert.ok(
    b.value('gatehouse_request_duration_seconds_sum', { route: 'public' }) >=
      b.value('gatehouse_upstream_duration_seconds_sum', { route: 'public' }),
    'upstream time is part of the request time',
  );
  assert.equal(delta(a, b, 'gatehouse_errors_total', { code: 'GH_ACCESS_DENIED' }), 1);
  assert.equal(delta(a, b, 'gatehouse_errors_total', { code: 'GH_ROUTE_NOT_FOUND' }), 1);
  assert.equal(b.value('gatehouse_ready'), 1);
  assert.ok(
    b.value('process_resident_memory_bytes') > 1_000_000,
    "b.value('process_resident_memory_bytes') > 1_000_000",
  );
  assert.ok(b.value('process_cpu_seconds_total') > 0, "b.value('process_cpu_seconds_total') > 0");
  const start = b.value('process_start_time_seconds');
  assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 5, `start time ${start}`);
});

test('decision reasons are exactly the reason codes of the audit events', async () => {
  const a = await scrape();
  const from = gh.audit.length;
  await send(gh.url, '/public/y');
  await send(gh.url, '/admin/y', { headers: { 'x-api-key': READER } });
  await send(gh.url, '/admin/y', { headers: { 'x-api-key': 'ak_not_a_key' } });
  await send(gh.url, '/admin/y');
  for (let i = 0; i < 3; i++) await send(gh.url, '/limited/y', { headers: { 'x-api-key': READER } });
  await sleep(20);
  const events = gh.audit.slice(from).filter((e) => e.type === 'request' && e.route !== undefined);
  const b = await scrape();
  const expected = new Map<string, number>();
  for (const e of events)
    for (const r of e.reasons) expected.set(`${e.route}|${r}`, (expected.get(`${e.route}|${r}`) ?? 0) + 1);
  assert.ok(expected.size >= 6, [...expected.keys()].join(', '));
  for (const [k, n] of expected) {
    const [route = '', reason = ''] = k.split('|');
    assert.equal(delta(a, b, 'gatehouse_decisions_total', { route, reason }), n, k);
  }
  const moved = b.samples.filter(
    (s) =>
      s.name === 'gatehouse_decisions_total' &&
      s.labels.route !== '(none)' &&
      s.value !== a.value(s.name, s.labels),
  );
  assert.equal(moved.length, expected.size, 'no reason counted that the audit does not carry');
  for (const k of [
    'public|route.public',
    'admin|role.missing:admin',
    'admin|apikey.unknown',
    'limited|limit.exceeded:per-client',
  ])
    assert.ok(expected.has(k), `${k} in ${[...expected.keys()].join(', ')}`);
});

test('rate-limit rejections and cache results are exposed from the limits and cache services', async () => {
  const a = await scrape();
  const key = { 'x-api-key': READER };
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(gh.url, '/limited/z', { headers: key })).status);
  assert.ok(statuses.includes(429), statuses.join());
  assert.equal((await send(gh.url, '/cached/page')).headers['x-cache'], 'MISS');
  assert.equal((await send(gh.url, '/cached/page')).headers['x-cache'], 'HIT');
  assert.equal((await send(gh.url, '/cached/page', { method: 'POST', body: 'x' })).status, 200);
  const b = await scrape();
  assert.equal(
    delta(a, b, 'gatehouse_ratelimit_rejections_total', { limit: 'per-client' }),
    statuses.filter((s) => s === 429).length,
  );
  assert.equal(
    delta(a, b, 'gatehouse_errors_total', { code: 'GH_QUOTA_EXCEEDED' }),
    statuses.filter((s) => s === 429).length,
  );
  assert.equal(delta(a, b, 'gatehouse_cache_requests_total', { result: 'miss' }), 1);
  assert.equal(delta(a, b, 'gatehouse_cache_requests_total', { result: 'hit' }), 1);
  assert.equal(
    delta(a, b, 'gatehouse_cache_requests_total', { result: 'bypass' }),
    1,
    'POST on a cached route',
  );
  assert.equal(delta(a, b, 'gatehouse_cache_stored_total'), 1);
  assert.equal(b.value('gatehouse_cache_entries'), 1, 'one stored page');
  assert.ok(b.value('gatehouse_cache_bytes') > 0, 'the stored page occupies bytes');
  assert.equal(b.value('gatehouse_ratelimit_store_errors_total'), 0);
});

test('counters survive a configuration reload (they never go down)', async () => {
  await send(gh.url, '/public/r');
  for (let i = 0; i < 3; i++) await send(gh.url, '/limited/r', { headers: { 'x-api-key': READER } });
  const a = await scrape();
  assert.ok(
    a.value('gatehouse_ratelimit_rejections_total') > 0,
    "a.value('gatehouse_ratelimit_rejections_total') > 0",
  );
  await gh.gateway.reload(
    validateConfig({ ...config(), server: { listeners: [{ address: '127.0.0.1', port: 0 }] } }),
  );
  await send(gh.url, '/public/r');
  const b = await scrape();
  for (const s of a.samples) {
    if (a.types.get(s.name) !== 'counter' || s.name.startsWith('process_')) continue;
    assert.ok(
      b.value(s.name, s.labels) >= s.value,
      `${s.name}${JSON.stringify(s.labels)} went down after reload`,
    );
  }
  assert.equal(delta(a, b, 'gatehouse_requests_total', { route: 'public', status_class: '2xx' }), 1);
});

test('only allowed client addresses may scrape; others (and forged X-Forwarded-For) get 404', async () => {
  const other = await startGatehouse({ ...config(), server: { metrics: { allow: ['10.0.0.0/8'] } } });
  const relayed = await startGatehouse({ ...config(), server: { trusted_proxies: ['127.0.0.1/32'] } });
  const off = await startGatehouse({ ...config(), server: { metrics: { enabled: false } } });
  try {
    const r = await send(other.url, '/.gatehouse/metrics');
    assert.equal(r.status, 404);
    assert.equal(r.json().error, 'GH_ROUTE_NOT_FOUND', 'indistinguishable from an unknown path');
    assert.doesNotMatch(r.body, /gatehouse_/);
    const forged = await send(other.url, '/.gatehouse/metrics', {
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(forged.status, 404, 'X-Forwarded-For from an untrusted peer changes nothing');
    const viaProxy = await send(relayed.url, '/.gatehouse/metrics', {
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(
      viaProxy.status,
      404,
      'a local trusted proxy relaying an outside client is not the loopback scraper',
    );
    assert.equal((await send(relayed.url, '/.gatehouse/metrics')).status, 200);
    assert.equal((await send(off.url, '/.gatehouse/metrics')).status, 404);
    assert.equal((await send(gh.url, '/.gatehouse/metrics', { method: 'POST' })).status, 405);
  } finally {
    await Promise.all([other.close(), relayed.close(), off.close()]);
  }
});

test('server.metrics.allow entries are validated with their key path', () => {
  assert.throws(
    () => validateConfig({ server: { metrics: { allow: ['10.0.0.0/40'] } } }),
    (e: Error) => /server\.metrics\.allow\[0\]/.test(e.message),
  );
});
