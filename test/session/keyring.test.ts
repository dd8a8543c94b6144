import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRing } from '../../src/session/keyring.js';

const OLD = 'old-secret-0123456789-abcdefghijklmnop';
const NEW = 'new-secret-9876543210-ponmlkjihgfedcba';
const payload = { sid: 'abc', state: 'xyz', returnTo: '/app?x=1', n: 3, nested: { ok: true } };

function flip(token: string, part: number): string {
  const parts = token.split('.');
  const p = parts[part] as string;
  const c = p[5] === 'A' ? 'B' : 'A';
  parts[part] = p.slice(0, 5) + c + p.slice(6);
  return parts.join('.');
}

test('keyring: seal/open round-trips a JSON payload', async () => {
  const ring = KeyRing.fromSecrets([NEW]);
  const token = await ring.seal(payload, 'state', 60);
  assert.equal(token.split('.').length, 5, 'compact JWE');
  assert.ok(
    !token.includes('xyz') &&
      !Buffer.from(token.split('.')[3] as string, 'base64url')
        .toString()
        .includes('/app'),
    'payload is encrypted',
  );
  assert.deepEqual(await ring.open(token, 'state'), payload);
});

test('keyring: rotation: a token sealed with the old secret still opens after a new secret is prepended', async () => {
  const before = KeyRing.fromSecrets([OLD]);
  const token = await before.seal(payload, 'session', 60);
  const signed = before.sign('session-id-123');
  const rotated = KeyRing.fromSecrets([NEW, OLD]);
  assert.deepEqual(await rotated.open(token, 'session'), payload);
  assert.equal(rotated.verify(signed), 'session-id-123');
  // New tokens use the new secret: once the old secret is dropped, only they still open.
  const fresh = await rotated.seal(payload, 'session', 60);
  const onlyNew = KeyRing.fromSecrets([NEW]);
  assert.deepEqual(await onlyNew.open(fresh, 'session'), payload);
  assert.equal(await onlyNew.open(token, 'session'), undefined, 'retired secret no longer accepted');
  assert.equal(onlyNew.verify(signed), undefined);
  assert.equal(onlyNew.verify(rotated.sign('v')), 'v');
  assert.notEqual(before.currentKid, rotated.currentKid);
});

test('keyring: a token sealed for one purpose is refused for another', async () => {
  const ring = KeyRing.fromSecrets([NEW]);
  const token = await ring.seal(payload, 'state', 60);
  assert.equal(await ring.open(token, 'session'), undefined);
  assert.equal(await ring.open(token, ''), undefined);
});

test('keyring: tampered tokens are refused (header, iv, ciphertext, tag)', async () => {
  const ring = KeyRing.fromSecrets([NEW]);
  const token = await ring.seal(payload, 'state', 60);
  for (const part of [0, 2, 3, 4])
    assert.equal(await ring.open(flip(token, part), 'state'), undefined, `part ${part}`);
  // Re-labelling the purpose in the header breaks the authentication tag.
  const [h, ...rest] = token.split('.');
  const header = JSON.parse(Buffer.from(h as string, 'base64url').toString());
  header.pur = 'session';
  const relabelled = [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
  assert.equal(await ring.open(relabelled, 'session'), undefined);
  assert.equal(await ring.open('not-a-token', 'state'), undefined);
  assert.equal(await ring.open('', 'state'), undefined);
});

test('keyring: a token sealed under an unrelated secret is refused', async () => {
  const other = KeyRing.fromSecrets(['another-secret-that-is-long-enough-xx']);
  const token = await other.seal(payload, 'state', 60);
  assert.equal(await KeyRing.fromSecrets([NEW, OLD]).open(token, 'state'), undefined);
});

test('keyring: expired tokens are refused', async (t) => {
  const ring = KeyRing.fromSecrets([NEW]);
  const token = await ring.seal(payload, 'state', 60);
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 61_000 });
  assert.equal(await ring.open(token, 'state'), undefined);
  t.mock.timers.reset();
  assert.deepEqual(await ring.open(token, 'state'), payload);
  assert.equal(
    await ring.open(await ring.seal(payload, 'state', 0), 'state'),
    undefined,
    'ttl 0 is already expired',
  );
});

test('keyring: sign/verify detects any change to value or tag', () => {
  const ring = KeyRing.fromSecrets([NEW]);
  const signed = ring.sign('abc.def');
  assert.equal(ring.verify(signed), 'abc.def', 'values may contain dots');
  assert.equal(ring.verify(signed.replace('abc', 'abd')), undefined);
  assert.equal(ring.verify(`${signed}x`), undefined);
  assert.equal(ring.verify(signed.slice(0, -1)), undefined);
  assert.equal(ring.verify('abc.def'), undefined);
  assert.equal(ring.verify('no-dot'), undefined);
  assert.equal(ring.verify(''), undefined);
});

test('keyring: weak, missing or duplicated secrets are rejected at load', () => {
  assert.throws(() => KeyRing.fromSecrets([]), /at least one secret/);
  assert.throws(() => KeyRing.fromSecrets(['short']), /secret #1 must be at least 32 characters/);
  assert.throws(() => KeyRing.fromSecrets([NEW, 'x'.repeat(31)]), /secret #2/);
  assert.throws(() => KeyRing.fromSecrets([NEW, NEW]), /same secret twice/);
});
