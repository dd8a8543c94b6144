import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager, type Refresher } from '../../src/oidc/sessions.js';
import type { TokenSet } from '../../src/oidc/client.js';
import { keys, logger, principalOf } from './manager-fixture.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';

// The session authenticator serves a live in-memory session without a Promise
// (`SessionManager.loadNow`); everything that must write — a touch, a refresh, an ended session —
// is left to `load`. These tests pin that split: nothing `load` would do is skipped.

const noRefresh: Refresher = {
  refresh: () => Promise.reject(new Error('no refresh expected')),
};
/** A session manager over `store` with these lifetimes (ms); refresh_before 60 s. */
const manager = (store: MemorySessionStore, absolute: number, idle: number) =>
  new SessionManager(store, keys, noRefresh, { absolute, idle, refreshBefore: 60_000 }, logger, principalOf);
const tokens: TokenSet = {
  accessToken: 'at-0',
  refreshToken: undefined,
  idToken: 'id-0',
  accessExpiresAt: undefined,
  claims: undefined,
};

test('loadNow: a live session answers at once; a revoked one at once no longer does', async () => {
  const store = new MemorySessionStore();
  const m = manager(store, 3_600_000, 600_000);
  const id = await m.create({ sub: 'alice', email: 'alice@example.test' }, tokens, undefined);
  const rec = m.loadNow(id);
  assert.ok(rec !== undefined, 'served without waiting');
  assert.equal(rec.p.subject, 'alice');
  rec.s = 0;
  assert.notEqual(m.loadNow(id)?.s, 0, 'every answer is a copy: a caller cannot change the store');
  assert.equal(m.loadNow('x'.repeat(43)), undefined, 'an unknown id: left to load (which clears the cookie)');
  await m.destroy(id);
  assert.equal(m.loadNow(id), undefined, 'revoked: not served from anywhere');
  assert.equal(await m.load(id), undefined);
  await store.close();
});

test('loadNow leaves a due touch to load, so a session in use never idles out', async () => {
  const store = new MemorySessionStore();
  // idle 4 s → touch interval 1 s (a quarter of idle, at least 1 s)
  const m = manager(store, 3_600_000, 4000);
  assert.equal(m.touchInterval, 1000);
  const id = await m.create({ sub: 'bob' }, tokens, undefined);
  const first = m.loadNow(id);
  assert.ok(first !== undefined, 'first !== undefined');
  await sleep(1100);
  assert.equal(m.loadNow(id), undefined, 'the touch is due: only load can answer');
  const touched = await m.load(id);
  assert.ok(touched !== undefined && touched.s > first.s, 'load wrote the new last-seen time');
  assert.equal(m.loadNow(id)?.s, touched.s, 'served at once again, with the touched record');
  await store.close();
});

test('loadNow leaves an expired session and a due refresh to load', async () => {
  const store = new MemorySessionStore();
  const m = manager(store, 600, 600_000);
  const short = await m.create({ sub: 'carol' }, tokens, undefined);
  assert.ok(m.loadNow(short) !== undefined, 'm.loadNow(short) !== undefined');
  await sleep(700);
  assert.equal(m.loadNow(short), undefined, 'past the absolute lifetime');
  assert.equal(await m.load(short), undefined, 'and load ends it');

  const long = manager(store, 3_600_000, 600_000);
  const due = await long.create(
    { sub: 'dave' },
    { ...tokens, refreshToken: 'rt-0', accessExpiresAt: Date.now() + 400 },
    undefined,
  );
  assert.ok(long.loadNow(due) !== undefined, 'not yet due');
  // Due at half the access token's 400 ms life.
  await sleep(250);
  assert.equal(long.loadNow(due), undefined, 'the access token is due for refresh: left to load');
  await store.close();
});

test('principalNow: one principal object per stored record, a new one after any write', async () => {
  const store = new MemorySessionStore();
  // idle 4 s → touch interval 1 s
  const m = manager(store, 3_600_000, 4000);
  const id = await m.create({ sub: 'erin', groups: ['staff'] }, tokens, undefined);
  const a = m.principalNow(id);
  assert.ok(a !== undefined, 'a !== undefined');
  assert.equal(a.subject, 'erin');
  assert.equal(m.principalNow(id), a, 'the same object while the record is unchanged');
  assert.notEqual(m.loadNow(id)?.p, a, 'loadNow still hands out copies');
  await sleep(1100);
  assert.equal(m.principalNow(id), undefined, 'touch due: left to load');
  await m.load(id);
  const b = m.principalNow(id);
  assert.ok(b !== undefined && b !== a, 'the touch wrote a new record: a new principal');
  assert.deepEqual(b, a, 'with the same content');
  await m.destroy(id);
  assert.equal(m.principalNow(id), undefined, 'revoked: gone at once');
  await store.close();
});
