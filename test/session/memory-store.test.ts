import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { newSessionId } from '../../src/session/store.js';
import { createSessionStore } from '../../src/session/create-store.js';
import { sessionStoreConformance } from './conformance.js';

sessionStoreConformance('memory', async () => {
  const store = createSessionStore({ store: 'memory' }, pino({ level: 'silent' }));
  return { store, peer: store, close: () => store.close() };
});

test('memory store: the least recently written sessions are evicted beyond maxEntries', async () => {
  const store = new MemorySessionStore({ maxEntries: 3 });
  try {
    for (const id of ['s1', 's2', 's3']) await store.set(id, { id }, 60_000);
    await store.set('s1', { id: 's1', v: 2 }, 60_000); // rewritten: now the newest
    await store.set('s4', { id: 's4' }, 60_000);
    assert.equal(store.size, 3);
    assert.equal(await store.get('s2'), undefined, 's2 was the oldest write');
    assert.deepEqual(await store.get('s1'), { id: 's1', v: 2 });
    assert.deepEqual(await store.get('s4'), { id: 's4' });
  } finally {
    await store.close();
  }
});

test('memory store: the periodic sweep frees expired sessions without reads', async () => {
  const store = new MemorySessionStore({ sweepIntervalMs: 30 });
  try {
    for (let i = 0; i < 50; i++) await store.set(`s${i}`, { i }, 40);
    await store.set('keep', { v: 1 }, 60_000);
    assert.equal(store.size, 51);
    await sleep(150);
    assert.equal(store.size, 1);
  } finally {
    await store.close();
  }
});

test('newSessionId: 256 random bits, base64url, never repeats', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = newSessionId();
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 32);
    ids.add(id);
  }
  assert.equal(ids.size, 2000);
});
