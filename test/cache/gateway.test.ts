import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';

const ALICE = 'ak_alice_5e1f0c9b8a7d6e5f4a3b2c1d';
const BOB = 'ak_bob_0a1b2c3d4e5f6a7b8c9d0e1f2a3b';
const CAROL = 'ak_carol_ffeeddccbbaa99887766554433';

let up: RecordingUpstream;
let gh: TestGateway;
let redis: RedisServer;
let r1: TestGateway;
let r2: TestGateway;
let served = 0;

/** The upstream answers with a page unique to each call, personalised by what it was told. */
function app(req: IncomingMessage, res: ServerResponse): void {
  served++;
  const url = new URL(req.url ?? '/', 'http://x');
  const headers: Record<string, string | string[]> = { 'content-type': 'text/plain', etag: `"v${served}"` };
  const cc = url.searchParams.get('cc');
  if (cc) headers['cache-control'] = cc;
  if (url.searchParams.get('cookie')) headers['set-cookie'] = ['app=1; Path=/'];
  if (url.searchParams.get('vary')) headers['vary'] = url.searchParams.get('vary') as string;
  const size = Number(url.searchParams.get('size') ?? 0);
  const body =
    size > 0
      ? 'x'.repeat(size)
      : `page #${served} for ${req.headers['cookie'] ?? '-'} lang=${req.headers['accept-language'] ?? '-'}`;
  res.writeHead(200, headers);
  res.end(body);
}

const keys = (...ks: [string, string, string][]) => ({
  keys: ks.map(([k, id, tenant]) => ({ hash: hashApiKey(k), client_id: id, attributes: { tenant } })),
});

before(async () => {
  up = await startUpstream(app);
  redis = await startRedis();
  const base = {
    upstreams: { app: { url: up.url } },
    api_keys: keys([ALICE, 'alice', 'acme'], [BOB, 'bob', 'acme'], [CAROL, 'carol', 'globex']),
  };
  gh = await startGatehouse({
    ...base,
    cache: { max_size: '1mb' },
    routes: [
      {
        name: 'mine',
        match: { path: '/mine' },
        upstream: 'app',
        auth: 'apikey',
        allow: 'authenticated',
        cache: { ttl: '60s' },
      },
      {
        name: 'tenant',
        match: { path: '/tenant' },
        upstream: 'app',
        auth: 'apikey',
        allow: 'authenticated',
        cache: { ttl: '60s', vary_on_claims: ['tenant'] },
      },
      {
        name: 'pub',
        match: { path: '/pub' },
        upstream: 'app',
        auth: 'none',
        cache: { ttl: '60s', max_entry_size: '4kb' },
      },
    ],
  });
  const shared = {
    ...base,
    limits: { redis: { url: redis.url, key_prefix: `ghc-${process.pid}:` } },
    cache: { store: 'redis' },
    routes: [
      { name: 'shared', match: { path: '/shared' }, upstream: 'app', auth: 'none', cache: { ttl: '60s' } },
    ],
  };
  r1 = await startGatehouse(shared);
  r2 = await startGatehouse(shared);
});
after(async () => {
  await gh.close();
  await r1.close();
  await r2.close();
  await redis.stop();
  await up.close();
});

const get = (gw: TestGateway, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  send(gw.url, path, { headers, method });

test('second GET is a HIT with Age; the upstream is asked once', async () => {
  const n = up.received.length;
  const a = await get(gh, '/pub/a');
  const b = await get(gh, '/pub/a');
  assert.equal(a.headers['x-cache'], 'MISS');
  assert.equal(b.headers['x-cache'], 'HIT');
  assert.equal(b.body, a.body);
  assert.equal(b.headers['age'], '0');
  assert.equal(b.headers['etag'], a.headers['etag']);
  assert.match(String(b.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.notEqual(b.headers['x-request-id'], a.headers['x-request-id']);
  assert.equal(up.received.length, n + 1);
  const c = await get(gh, '/pub/a?other=1');
  assert.equal(c.headers['x-cache'], 'MISS', 'the query is part of the key');
});

test('one user never receives another user’s cached page', async () => {
  const alice1 = await get(gh, '/mine/profile', { 'x-api-key': ALICE });
  const bob1 = await get(gh, '/mine/profile', { 'x-api-key': BOB });
  const alice2 = await get(gh, '/mine/profile', { 'x-api-key': ALICE });
  const bob2 = await get(gh, '/mine/profile', { 'x-api-key': BOB });
  assert.equal(bob1.headers['x-cache'], 'MISS', "alice's entry is not bob's");
  assert.notEqual(bob1.body, alice1.body);
  assert.equal(alice2.headers['x-cache'], 'HIT');
  assert.equal(alice2.body, alice1.body);
  assert.equal(bob2.headers['x-cache'], 'HIT');
  assert.equal(bob2.body, bob1.body);
  const anon = await get(gh, '/mine/profile');
  assert.equal(anon.status, 401, 'no credential: the cache is never consulted before authentication');
});

test('anonymous requests with different cookies (an app’s own session) do not share entries', async () => {
  const a = await get(gh, '/pub/home', { cookie: 'appsession=A' });
  const b = await get(gh, '/pub/home', { cookie: 'appsession=B' });
  const a2 = await get(gh, '/pub/home', { cookie: 'appsession=A' });
  assert.equal(b.headers['x-cache'], 'MISS');
  assert.match(b.body, /appsession=B/);
  assert.equal(a2.headers['x-cache'], 'HIT');
  assert.equal(a2.body, a.body);
  assert.match(a2.body, /appsession=A/);
});

test('vary_on_claims shares entries within a tenant, never across tenants', async () => {
  const alice = await get(gh, '/tenant/report', { 'x-api-key': ALICE });
  const bob = await get(gh, '/tenant/report', { 'x-api-key': BOB });
  const carol = await get(gh, '/tenant/report', { 'x-api-key': CAROL });
  assert.equal(alice.headers['x-cache'], 'MISS');
  assert.equal(bob.headers['x-cache'], 'HIT', 'same tenant');
  assert.equal(bob.body, alice.body);
  assert.equal(carol.headers['x-cache'], 'MISS', 'other tenant');
  assert.notEqual(carol.body, alice.body);
});

test('private, no-store, no-cache, Set-Cookie and Vary: * responses are never stored', async () => {
  for (const q of ['cc=private,max-age=60', 'cc=no-store', 'cc=no-cache', 'cookie=1', 'vary=*']) {
    const n = up.received.length;
    await get(gh, `/pub/nostore?${q}`);
    const again = await get(gh, `/pub/nostore?${q}`);
    assert.equal(again.headers['x-cache'], 'MISS', q);
    assert.equal(up.received.length, n + 2, `${q}: both requests reached the upstream`);
  }
});

test('Vary: the varying request header selects the stored variant', async () => {
  const en = await get(gh, '/pub/v?vary=Accept-Language', { 'accept-language': 'en' });
  const fr = await get(gh, '/pub/v?vary=Accept-Language', { 'accept-language': 'fr' });
  const en2 = await get(gh, '/pub/v?vary=Accept-Language', { 'accept-language': 'en' });
  const fr2 = await get(gh, '/pub/v?vary=Accept-Language', { 'accept-language': 'fr' });
  assert.equal(fr.headers['x-cache'], 'MISS');
  assert.match(fr.body, /lang=fr/);
  assert.equal(en2.headers['x-cache'], 'HIT');
  assert.match(en2.body, /lang=en/);
  assert.equal(fr2.headers['x-cache'], 'HIT');
  assert.match(fr2.body, /lang=fr/);
  assert.equal(en.body, en2.body);
});

test('max-age shorter than the route ttl wins; expired entries are fetched again', async () => {
  await get(gh, '/pub/short?cc=max-age=1');
  assert.equal((await get(gh, '/pub/short?cc=max-age=1')).headers['x-cache'], 'HIT');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await get(gh, '/pub/short?cc=max-age=1')).headers['x-cache'], 'MISS');
});

test('HEAD is answered from a stored GET without a body; POST is never cached', async () => {
  const g = await get(gh, '/pub/h');
  const h = await get(gh, '/pub/h', {}, 'HEAD');
  assert.equal(h.headers['x-cache'], 'HIT');
  assert.equal(h.body, '');
  assert.equal(h.headers['content-length'], String(Buffer.byteLength(g.body)));
  const n = up.received.length;
  const p = await send(gh.url, '/pub/h', { method: 'POST', body: 'x' });
  assert.equal(p.headers['x-cache'], undefined);
  assert.equal(up.received.length, n + 1);
});

test('responses above max_entry_size stream through complete but are not stored', async () => {
  const a = await get(gh, '/pub/big?size=10000');
  const b = await get(gh, '/pub/big?size=10000');
  assert.equal(a.body.length, 10_000);
  assert.equal(b.body.length, 10_000);
  assert.equal(b.headers['x-cache'], 'MISS');
});

test('request Cache-Control: no-cache goes to the upstream; If-None-Match on a hit gives 304', async () => {
  const first = await get(gh, '/pub/cond');
  const n = up.received.length;
  const bypass = await get(gh, '/pub/cond', { 'cache-control': 'no-cache' });
  assert.equal(bypass.headers['x-cache'], 'MISS');
  assert.equal(up.received.length, n + 1);
  const etag = String((await get(gh, '/pub/cond')).headers['etag']);
  assert.notEqual(etag, String(first.headers['etag']), 'the bypassing request refreshed the entry');
  const nm = await get(gh, '/pub/cond', { 'if-none-match': etag });
  assert.equal(nm.status, 304);
  assert.equal(nm.headers['x-cache'], 'HIT');
  assert.equal(nm.body, '');
});

test('with the Redis store, instances share cached responses', async () => {
  const a = await get(r1, '/shared/x');
  assert.equal(a.headers['x-cache'], 'MISS');
  let b = await get(r2, '/shared/x');
  for (let i = 0; i < 20 && b.headers['x-cache'] !== 'HIT'; i++) {
    await new Promise((r) => setTimeout(r, 25));
    b = await get(r2, '/shared/x');
  }
  assert.equal(b.headers['x-cache'], 'HIT', 'stored by the first instance, served by the second');
  assert.equal(b.body, a.body);
});
