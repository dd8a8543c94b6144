import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCacheControl, requestPolicy, responsePolicy, varyNames } from '../../src/cache/policy.js';
import { MemoryCacheStore, type CacheValue } from '../../src/cache/store.js';
import { decodeValue, encodeValue } from '../../src/cache/redis-store.js';

test('Cache-Control parsing: case-insensitive names, quoted arguments, first occurrence wins', () => {
  const d = parseCacheControl(['Public, MAX-AGE=60', 's-maxage="120", max-age=5, no-cache="set-cookie"']);
  assert.equal(d.get('max-age'), '60');
  assert.equal(d.get('s-maxage'), '120');
  assert.equal(d.get('public'), '');
  assert.equal(d.get('no-cache'), 'set-cookie');
});

test('freshness: s-maxage over max-age over Expires, never beyond the route ttl, minus Age', () => {
  const ttl = 60_000;
  assert.deepEqual(responsePolicy(200, { 'cache-control': 'max-age=10' }, ttl), {
    store: true,
    ttlMs: 10_000,
    initialAge: 0,
  });
  assert.deepEqual(responsePolicy(200, { 'cache-control': 'max-age=10, s-maxage=30' }, ttl), {
    store: true,
    ttlMs: 30_000,
    initialAge: 0,
  });
  assert.deepEqual(responsePolicy(200, { 'cache-control': 'max-age=3600' }, ttl), {
    store: true,
    ttlMs: 60_000,
    initialAge: 0,
  });
  assert.deepEqual(responsePolicy(200, {}, ttl), { store: true, ttlMs: 60_000, initialAge: 0 });
  assert.deepEqual(responsePolicy(200, { 'cache-control': 'max-age=10', age: '4' }, ttl), {
    store: true,
    ttlMs: 6000,
    initialAge: 4,
  });
  const date = new Date('2030-01-01T00:00:00Z');
  const expires = new Date(date.getTime() + 20_000);
  assert.deepEqual(responsePolicy(200, { date: date.toUTCString(), expires: expires.toUTCString() }, ttl), {
    store: true,
    ttlMs: 20_000,
    initialAge: 0,
  });
  assert.deepEqual(
    responsePolicy(200, { expires: '0' }, ttl),
    { store: false, why: 'stale' },
    'an invalid Expires means already expired',
  );
  assert.deepEqual(responsePolicy(200, { 'cache-control': 'max-age=0' }, ttl), {
    store: false,
    why: 'stale',
  });
});

test('never stored: private, no-store, no-cache, Set-Cookie, Vary: *, partial content, odd statuses', () => {
  const ttl = 60_000;
  assert.equal(responsePolicy(200, { 'cache-control': 'private, max-age=60' }, ttl).store, false);
  assert.equal(responsePolicy(200, { 'cache-control': 'Private' }, ttl).store, false);
  assert.equal(responsePolicy(200, { 'cache-control': 'no-store' }, ttl).store, false);
  assert.equal(responsePolicy(200, { 'cache-control': 'no-cache' }, ttl).store, false);
  assert.equal(responsePolicy(200, { 'set-cookie': ['a=b'] }, ttl).store, false);
  assert.equal(responsePolicy(200, { vary: 'Accept, *' }, ttl).store, false);
  assert.equal(responsePolicy(206, { 'content-range': 'bytes 0-1/2' }, ttl).store, false);
  for (const s of [201, 302, 304, 401, 403, 500, 502])
    assert.equal(responsePolicy(s, {}, ttl).store, false, String(s));
  for (const s of [200, 301, 404, 410]) assert.equal(responsePolicy(s, {}, ttl).store, true, String(s));
});

test('request directives: no-cache / max-age=0 / Pragma skip the lookup, no-store skips storing, Range skips both', () => {
  assert.deepEqual(requestPolicy({}), { skipLookup: false, skipStore: false, maxAge: undefined });
  assert.equal(requestPolicy({ 'cache-control': 'no-cache' }).skipLookup, true);
  assert.equal(requestPolicy({ 'cache-control': 'max-age=0' }).skipLookup, true);
  assert.equal(requestPolicy({ 'cache-control': 'max-age=30' }).maxAge, 30);
  assert.equal(requestPolicy({ pragma: 'no-cache' }).skipLookup, true);
  assert.deepEqual(requestPolicy({ 'cache-control': 'no-store' }), {
    skipLookup: true,
    skipStore: true,
    maxAge: undefined,
  });
  assert.deepEqual(requestPolicy({ range: 'bytes=0-10' }), {
    skipLookup: true,
    skipStore: true,
    maxAge: undefined,
  });
});

test('Vary names are normalised and sorted so equivalent responses share a key', () => {
  assert.deepEqual(varyNames(['Accept-Language, accept', 'ACCEPT']), ['accept', 'accept-language']);
});

const entry = (body: string, expiresAt: number): CacheValue => ({
  kind: 'response',
  response: {
    status: 200,
    headers: [['content-type', 'text/plain']],
    body: Buffer.from(body),
    storedAt: 0,
    expiresAt,
    initialAge: 0,
  },
});

test('memory LRU: bounded in bytes, least recently used evicted first, expired entries gone', () => {
  const s = new MemoryCacheStore(2000);
  s.set('a', entry('x'.repeat(500), 10_000), 0);
  s.set('b', entry('y'.repeat(500), 10_000), 0);
  assert.ok(s.get('a', 1), "s.get('a', 1)"); // a is now most recently used
  s.set('c', entry('z'.repeat(900), 10_000), 0);
  assert.ok(s.bytes <= 2000, `bytes ${s.bytes}`);
  assert.equal(s.get('b', 1), undefined, 'b was least recently used');
  assert.ok(s.get('a', 1), "s.get('a', 1)");
  assert.ok(s.get('c', 1), "s.get('c', 1)");
  assert.equal(s.get('c', 10_000), undefined, 'expired');
  s.set('huge', entry('h'.repeat(5000), 10_000), 0);
  assert.equal(s.get('huge', 1), undefined, 'an entry larger than the whole cache is not stored');
});

test('redis encoding round-trips binary bodies and headers', () => {
  const body = Buffer.from([0, 1, 2, 255, 10, 13]);
  const v: CacheValue = {
    kind: 'response',
    response: { status: 203, headers: [['etag', '"x"']], body, storedAt: 5, expiresAt: 9, initialAge: 2 },
  };
  const back = decodeValue(encodeValue(v));
  assert.equal(back?.kind, 'response');
  if (back?.kind !== 'response') return;
  assert.deepEqual(back.response.body, body);
  assert.deepEqual(back.response.headers, [['etag', '"x"']]);
  assert.equal(back.response.status, 203);
  assert.equal(decodeValue(Buffer.from([0, 0, 9])), undefined);
});
