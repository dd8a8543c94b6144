import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';

let up: RecordingUpstream;
let gh: TestGateway;
let viaProxy: TestGateway;

const KEY_A = 'gh_test_key_aaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'gh_test_key_bbbbbbbbbbbbbbbbbbbbbbbb';

before(async () => {
  up = await startUpstream();
  const routes = [
    {
      name: 'ip',
      match: { path: '/ip' },
      upstream: 'app',
      auth: 'none',
      limits: [{ name: 'per-ip', rate: '3/min', key: 'ip' }],
    },
    {
      name: 'hdr',
      match: { path: '/hdr' },
      upstream: 'app',
      auth: 'none',
      limits: [{ name: 'burst', rate: '10/s', burst: 5, key: 'ip', headers: true }],
    },
    {
      name: 'quiet',
      match: { path: '/quiet' },
      upstream: 'app',
      auth: 'none',
      limits: [{ rate: '100/s', key: 'ip' }],
    },
    {
      name: 'keys',
      match: { path: '/keys' },
      upstream: 'app',
      auth: 'apikey',
      allow: 'authenticated',
      limits: ['per-key'],
    },
    {
      name: 'both',
      match: { path: '/both' },
      upstream: 'app',
      auth: 'none',
      limits: [
        { name: 'loose', rate: '100/s', key: 'ip', headers: true },
        { name: 'tight', quota: '2/hour', window: 'fixed', key: 'route', headers: true },
      ],
    },
  ];
  const common = {
    upstreams: { app: { url: up.url } },
    limits: { policies: { 'per-key': { quota: '2/day', key: 'api_key' } } },
    api_keys: {
      keys: [
        { hash: hashApiKey(KEY_A), client_id: 'svc-a' },
        { hash: hashApiKey(KEY_B), client_id: 'svc-b' },
      ],
    },
    routes,
  };
  gh = await startGatehouse(common);
  viaProxy = await startGatehouse({ ...common, server: { trusted_proxies: ['127.0.0.1/32'] } });
});
after(async () => {
  await gh.close();
  await viaProxy.close();
  await up.close();
});

test('over the limit: 429 GH_RATE_LIMITED with Retry-After and RateLimit headers, never forwarded, audited', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await send(gh.url, '/ip')).status, 200);
  const n = up.received.length;
  const r = await send(gh.url, '/ip');
  assert.equal(r.status, 429);
  assert.equal(r.json().error, 'GH_RATE_LIMITED');
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry >= 19 && retry <= 20, `one token every 20 s: Retry-After ${retry}`);
  assert.equal(r.headers['ratelimit-policy'], '"per-ip";q=3;w=60');
  assert.equal(r.headers['ratelimit'], `"per-ip";r=0;t=${retry}`);
  assert.equal(up.received.length, n, 'a limited request does not reach the upstream');
  const ev = gh.audit.at(-1);
  assert.equal(ev?.status, 429);
  assert.equal(ev?.decision, 'deny');
  assert.ok(ev?.reasons.includes('limit.exceeded:per-ip'), JSON.stringify(ev?.reasons));
});

test('rotating X-Forwarded-For from an untrusted client does not buy fresh buckets', async () => {
  let limited = 0;
  for (let i = 0; i < 6; i++) {
    const r = await send(gh.url, '/ip', { headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } });
    if (r.status === 429) limited++;
  }
  assert.equal(limited, 6, 'the peer address is the key: the spoofed header is ignored');
});

test('behind a trusted proxy the key is the first untrusted address of the chain, not what the client prepends', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await send(viaProxy.url, '/ip', { headers: { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` } });
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const other = await send(viaProxy.url, '/ip', { headers: { 'x-forwarded-for': '203.0.113.8' } });
  assert.equal(other.status, 200, 'another real client has its own bucket');
});

test('headers: true puts the remaining budget on allowed responses', async () => {
  const a = await send(gh.url, '/hdr');
  const b = await send(gh.url, '/hdr');
  assert.equal(a.status, 200);
  assert.equal(a.headers['ratelimit-policy'], '"burst";q=5;w=1');
  assert.match(String(a.headers['ratelimit']), /^"burst";r=4;t=1$/);
  assert.match(String(b.headers['ratelimit']), /^"burst";r=3;t=1$/);
  const quiet = await send(gh.url, '/quiet');
  assert.equal(quiet.status, 200);
  assert.equal(
    quiet.headers['ratelimit'],
    undefined,
    'without headers: true, allowed responses carry no RateLimit fields',
  );
  assert.equal(quiet.headers['ratelimit-policy'], undefined);
});

test('quota per API key: each key has its own budget; GH_QUOTA_EXCEEDED when used up', async () => {
  const a1 = await send(gh.url, '/keys', { headers: { 'x-api-key': KEY_A } });
  const a2 = await send(gh.url, '/keys', { headers: { 'x-api-key': KEY_A } });
  const a3 = await send(gh.url, '/keys', { headers: { 'x-api-key': KEY_A } });
  assert.deepEqual([a1.status, a2.status, a3.status], [200, 200, 429]);
  assert.equal(a3.json().error, 'GH_QUOTA_EXCEEDED');
  // Sliding approximation: tomorrow the two requests of today weigh 2·(1 − e/day), so one more
  // fits once half of tomorrow has passed: wait = rest of today + half a day, whatever the hour.
  const restOfDay = 86_400 - ((Date.now() / 1000) % 86_400);
  const retry = Number(a3.headers['retry-after']);
  assert.ok(
    Math.abs(retry - (restOfDay + 43_200)) <= 5,
    `a sliding daily quota frees budget hours later: Retry-After ${retry}, expected ≈ ${Math.round(restOfDay + 43_200)}`,
  );
  const b1 = await send(gh.url, '/keys', { headers: { 'x-api-key': KEY_B } });
  assert.equal(b1.status, 200, 'another key is counted separately');
  const ev = gh.audit.findLast((e) => e.status === 429 && e.route === 'keys');
  assert.equal(ev?.client_id, 'svc-a');
  assert.ok(ev?.reasons.includes('limit.exceeded:per-key'), "ev?.reasons.includes('limit.exceeded:per-key')");
});

test('several limits: all must pass; headers list every limit that asks for them', async () => {
  const r1 = await send(gh.url, '/both');
  assert.equal(r1.status, 200);
  assert.equal(r1.headers['ratelimit-policy'], '"loose";q=100;w=1, "tight";q=2;w=3600');
  assert.match(String(r1.headers['ratelimit']), /^"loose";r=99;t=\d+, "tight";r=1;t=\d+$/);
  assert.equal((await send(gh.url, '/both')).status, 200);
  const r3 = await send(gh.url, '/both');
  assert.equal(r3.status, 429);
  assert.equal(r3.json().error, 'GH_QUOTA_EXCEEDED');
  assert.match(String(r3.headers['ratelimit-policy']), /^"tight";q=2;w=3600$/);
});
