import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send, type Reply } from '../helpers/http.js';
import { validateConfig } from '../../src/config/load.js';

// forward_auth.cache_ttl: a repeated check with the same credential skips the authenticator
// (here: RFC 7662 introspection, counted by the IdP), while rules, limits, identity headers and
// the audit still run for every check.
const ALICE = 'opaque-alice-4f1c2b9a8e7d6c5b';
const BOB = 'opaque-bob-0d9c8b7a6f5e4d3c';

let idp: IdpServer;
let up: RecordingUpstream;
let cached: TestGateway;
let uncached: TestGateway;

const config = (forwardAuth: Record<string, unknown> | undefined) => ({
  server: { trusted_proxies: ['127.0.0.1/32'] },
  ...(forwardAuth ? { forward_auth: forwardAuth } : {}),
  providers: {
    op: {
      issuer: idp.issuer,
      discovery: false,
      token_type: 'opaque',
      audiences: [idp.audience],
      introspection: {
        endpoint: idp.introspectionUrl,
        client_id: 'gatehouse',
        client_secret: 'introspection-secret',
        cache_ttl: 0,
        negative_cache_ttl: 0,
      },
    },
  },
  upstreams: { app: { url: up.url } },
  routes: [
    {
      name: 'orders',
      match: { path: '/orders' },
      upstream: 'app',
      auth: 'bearer',
      rules: [
        { name: 'read', effect: 'allow', when: { method: 'GET' } },
        { name: 'write', effect: 'allow', when: { all: [{ method: 'POST' }, { group: 'writers' }] } },
      ],
      identity: { headers: { 'X-User': '{sub}' } },
    },
    {
      name: 'quota',
      match: { path: '/quota' },
      upstream: 'app',
      auth: 'bearer',
      allow: 'authenticated',
      limits: [{ name: 'three', quota: '3/min', key: 'subject' }],
    },
  ],
});

/** A Traefik-style forward-auth call describing `GET uri` with the given bearer token. */
function check(g: TestGateway, uri: string, token: string, method = 'GET'): Promise<Reply> {
  return send(g.url, '/.gatehouse/auth', {
    headers: {
      authorization: `Bearer ${token}`,
      'x-forwarded-uri': uri,
      'x-forwarded-method': method,
      'x-forwarded-host': 'app.example',
      'x-forwarded-proto': 'https',
      accept: 'application/json',
    },
  });
}

before(async () => {
  idp = await startIdp();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  idp.setOpaque(ALICE, { active: true, sub: 'alice', aud: idp.audience, exp, groups: ['readers'] });
  idp.setOpaque(BOB, { active: true, sub: 'bob', aud: idp.audience, exp, groups: ['writers'] });
  up = await startUpstream();
  cached = await startGatehouse(config({ cache_ttl: '800ms' }));
  uncached = await startGatehouse(config(undefined));
});
after(async () => {
  await Promise.all([cached.close(), uncached.close()]);
  await idp.close();
  await up.close();
});

test('a repeated check with the same credential does not re-run the authenticator', async () => {
  const n = idp.counts.introspect;
  const first = await check(cached, '/orders/1', ALICE);
  assert.equal(first.status, 200);
  assert.equal(idp.counts.introspect, n + 1);
  let last: Reply | undefined;
  for (const uri of ['/orders/2', '/orders/1', '/orders/3']) {
    const r = await check(cached, uri, ALICE);
    last = r;
    assert.equal(r.status, 200, uri);
    assert.equal(r.headers['x-user'], 'alice', 'identity headers are built for every check');
  }
  assert.equal(idp.counts.introspect, n + 1, 'three more checks, no more introspection');
  const ev = cached.audit.at(-1);
  assert.equal(ev?.route, 'orders');
  assert.equal(ev?.path, '/orders/3');
  assert.equal(ev?.subject, 'alice', 'the audit still names who was allowed');
  assert.ok(ev?.reasons.includes('forward_auth.cache_hit'), ev?.reasons.join());
  assert.ok(ev?.reasons.includes('rule.allow'), 'the rule was evaluated');
  assert.equal(ev?.request_id, last?.headers['x-request-id'], 'the answer and the audit event share one id');

  await check(cached, '/orders/1', BOB);
  assert.equal(idp.counts.introspect, n + 2, 'another credential is authenticated afresh');
});

test('the cache is off by default: every check authenticates', async () => {
  const n = idp.counts.introspect;
  for (let i = 0; i < 3; i++) assert.equal((await check(uncached, '/orders/1', ALICE)).status, 200);
  assert.equal(idp.counts.introspect, n + 3);
});

test('rules and limits still apply on a cache hit', async () => {
  assert.equal((await check(cached, '/orders/9', ALICE)).status, 200);
  const n = idp.counts.introspect;
  const post = await check(cached, '/orders/9', ALICE, 'POST');
  assert.equal(post.status, 403, 'alice is no writer: the cached identity is re-authorised per request');
  assert.equal(post.json().error, 'GH_ACCESS_DENIED');
  assert.equal(
    cached.audit.at(-1)?.request_id,
    post.json().request_id,
    'the answer and the audit event share one id',
  );
  assert.equal(post.headers['x-request-id'], post.json().request_id);
  assert.equal(idp.counts.introspect, n, 'served from the cache');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await check(cached, '/quota/x', BOB)).status);
  assert.deepEqual(statuses, [200, 200, 200, 429], 'every check counts against the quota');
  assert.ok(idp.counts.introspect <= n + 1, 'idp.counts.introspect <= n + 1');
  const ev = cached.audit.at(-1);
  assert.equal(ev?.error, 'GH_QUOTA_EXCEEDED');
  assert.equal(ev?.subject, 'bob');
});

test('entries expire after cache_ttl, and a revoked token is then refused', async () => {
  const REVOKED = 'opaque-carol-7a6b5c4d3e2f1a0b';
  idp.setOpaque(REVOKED, {
    active: true,
    sub: 'carol',
    aud: idp.audience,
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  assert.equal((await check(cached, '/orders/1', REVOKED)).status, 200);
  idp.setOpaque(REVOKED, { active: false });
  assert.equal(
    (await check(cached, '/orders/1', REVOKED)).status,
    200,
    'within the TTL the cached identity is used',
  );
  await sleep(900);
  const n = idp.counts.introspect;
  const r = await check(cached, '/orders/1', REVOKED);
  assert.equal(r.status, 401, 'after the TTL the token is introspected again');
  assert.equal(idp.counts.introspect, n + 1);
});

test('forward_auth.cache_ttl is capped at 60 s, with the key path in the error', () => {
  assert.throws(
    () => validateConfig({ forward_auth: { cache_ttl: '2m' } }),
    (e: Error) => /forward_auth\.cache_ttl: expected at most 60s/.test(e.message),
  );
  assert.equal(validateConfig({ forward_auth: { cache_ttl: '30s' } }).forward_auth?.cache_ttl, 30_000);
  assert.equal(validateConfig({ forward_auth: {} }).forward_auth?.cache_ttl, 0);
});
