import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { AssertionKeySet } from '../../src/identity/keyset.js';
import { RouteAssertion } from '../../src/identity/assertion.js';
import { generateAssertionKey, RETIRED_KEY_GRACE_MS } from '../../src/identity/keys.js';
import { userPrincipal } from './fixtures.js';

const ISS = 'https://gw.example.com';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gh-keys-'));
}

const jwks = (ks: AssertionKeySet): JSONWebKeySet => JSON.parse(ks.jwksJson()) as JSONWebKeySet;

test('first start generates a key with mode 0600 and a restart reuses it', () => {
  const dir = join(tmp(), 'keys');
  try {
    const a = new AssertionKeySet({ alg: 'ES256', keyDir: dir, activationDelayMs: 300_000, dryRun: false });
    const files = readdirSync(dir).filter((f) => f.endsWith('.pem'));
    assert.equal(files.length, 1);
    assert.equal(statSync(join(dir, files[0] as string)).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const b = new AssertionKeySet({ alg: 'ES256', keyDir: dir, activationDelayMs: 300_000, dryRun: false });
    assert.equal(b.signingKey().kid, a.signingKey().kid);
    const pub = jwks(b).keys;
    assert.equal(pub.length, 1);
    assert.equal(pub[0]?.kty, 'EC');
    assert.equal(pub[0]?.alg, 'ES256');
    assert.equal((pub[0] as Record<string, unknown>).d, undefined, 'never publish the private part');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dry run (gatehouse validate) never writes a key', () => {
  const dir = join(tmp(), 'keys');
  const ks = new AssertionKeySet({ alg: 'ES256', keyDir: dir, activationDelayMs: 0, dryRun: true });
  assert.ok(ks.signingKey().privateKey, 'ks.signingKey().privateKey');
  assert.throws(() => statSync(dir), /ENOENT/);
});

test('key_file with a key of the wrong type is refused with the file name', () => {
  const dir = tmp();
  try {
    const f = join(dir, 'k.pem');
    writeFileSync(f, generateAssertionKey('EdDSA').export({ format: 'pem', type: 'pkcs8' }));
    assert.throws(
      () => new AssertionKeySet({ alg: 'ES256', keyFile: f, activationDelayMs: 0, dryRun: false }),
      /k\.pem: algorithm ES256 needs an EC/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('assertion verifies with jose against the JWKS and carries the documented claims', async () => {
  const dir = tmp();
  try {
    const ks = new AssertionKeySet({ alg: 'ES256', keyDir: dir, activationDelayMs: 0, dryRun: false });
    const ra = new RouteAssertion(ks, ISS, {
      audience: 'https://intranet.example.com',
      groups: new Set(['g-finance', 'g-unknown']),
      roles: 'all',
      claims: ['oid'],
      ttlMs: 60_000,
    });
    const p = userPrincipal();
    const token = await ra.get(p);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks(ks)), {
      issuer: ISS,
      audience: 'https://intranet.example.com',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.kid, ks.signingKey().kid);
    assert.equal(payload.sub, p.subject);
    assert.equal(payload.email, 'alice@example.com');
    assert.deepEqual(payload.groups, ['g-finance'], 'groups filtered to what the route needs');
    assert.deepEqual(payload.roles, ['Reader']);
    assert.equal(payload.oid, p.claims.oid);
    assert.equal(payload.tid, p.tenant);
    assert.equal(payload.idp, 'entra');
    assert.equal((payload.exp as number) - (payload.iat as number), 60);
    assert.equal(typeof payload.jti, 'string');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('assertion is cached per credential, re-signed shortly before expiry, and never outlives the credential', async () => {
  const dir = tmp();
  try {
    let now = Date.now();
    const ks = new AssertionKeySet({
      alg: 'ES256',
      keyDir: dir,
      activationDelayMs: 0,
      dryRun: false,
      now: () => now,
    });
    const ra = new RouteAssertion(
      ks,
      ISS,
      { audience: 'a', groups: 'all', roles: 'all', claims: [], ttlMs: 60_000 },
      () => now,
    );
    // One credential: its expiry fixed once (two userPrincipal() calls a second apart would be
    // two credentials, and the second lookup a miss).
    const expiresAt = Math.floor(now / 1000) + 3600;
    const user = (over: Parameters<typeof userPrincipal>[0] = {}) => userPrincipal({ expiresAt, ...over });
    const t1 = await ra.get(user());
    const again = ra.get(user()); // new principal object, same credential
    assert.equal(again, t1, 'a cache hit is returned synchronously');
    now += 44_000;
    assert.equal(ra.get(user()), t1);
    now += 2_000;
    const t2 = await ra.get(user());
    assert.notEqual(t2, t1);
    assert.notEqual(decodeJti(t1), decodeJti(t2), 'jti unique per token');
    const other = await ra.get(user({ credentialId: 'jti-other' }));
    assert.notEqual(other, t2);

    const soon = Math.floor(now / 1000) + 10;
    const short = await ra.get(user({ credentialId: 'short', expiresAt: soon }));
    const { payload } = await jwtVerify(short, createLocalJWKSet(jwks(ks)), { currentDate: new Date(now) });
    assert.equal(payload.exp, soon);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function decodeJti(t: string): unknown {
  return JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()).jti;
}

test('rotation: the new key is published before it signs, the old one stays until its tokens expired', async () => {
  const dir = tmp();
  try {
    let now = Date.now();
    const opts = {
      alg: 'ES256' as const,
      keyDir: dir,
      activationDelayMs: 120_000,
      rotateAfterMs: 3_600_000,
      dryRun: false,
      now: () => now,
    };
    const ks = new AssertionKeySet(opts);
    const ra = new RouteAssertion(
      ks,
      ISS,
      { audience: 'a', groups: 'all', roles: 'all', claims: [], ttlMs: 300_000 },
      () => now,
    );
    const oldKid = ks.signingKey().kid;
    const oldToken = await ra.get(userPrincipal());

    now += 3_600_000;
    ks.refresh();
    const kids = () => jwks(ks).keys.map((k) => k.kid);
    assert.equal(kids().length, 2, 'new key published ahead of use');
    assert.equal(ks.signingKey().kid, oldKid, 'old key still signs during activation delay');

    now += 120_000;
    const newKid = ks.signingKey().kid;
    assert.notEqual(newKid, oldKid);
    const newToken = (await ra.sign(userPrincipal({ credentialId: 'n' }), now)).token;
    assert.equal(decodeProtectedHeader(newToken).kid, newKid);
    // Both tokens verify against the JWKS an upstream fetches now.
    const set = createLocalJWKSet(jwks(ks));
    await jwtVerify(newToken, set, { currentDate: new Date(now) });
    await jwtVerify(oldToken, set, { currentDate: new Date(now - 120_000 - 3_600_000 + 1000) });
    assert.deepEqual(kids().sort(), [oldKid, newKid].sort());

    now += RETIRED_KEY_GRACE_MS - 1000;
    assert.equal(kids().length, 2);
    now += 2000;
    assert.deepEqual(kids(), [newKid], 'old key withdrawn after its last token expired');

    // A restart reads the same directory and agrees.
    const restarted = new AssertionKeySet(opts);
    assert.equal(restarted.signingKey().kid, newKid);
    assert.deepEqual(JSON.parse(restarted.jwksJson()), jwks(ks));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('manual rotation with key_file + previous_key_files publishes both keys', async () => {
  const dir = tmp();
  try {
    const oldF = join(dir, 'old.pem');
    const newF = join(dir, 'new.pem');
    writeFileSync(oldF, generateAssertionKey('ES256').export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(newF, generateAssertionKey('ES256').export({ format: 'pem', type: 'pkcs8' }));
    const before = new AssertionKeySet({ alg: 'ES256', keyFile: oldF, activationDelayMs: 0, dryRun: false });
    const ra0 = new RouteAssertion(before, ISS, {
      audience: 'a',
      groups: 'all',
      roles: 'all',
      claims: [],
      ttlMs: 60_000,
    });
    const oldToken = await ra0.get(userPrincipal());
    const after = new AssertionKeySet({
      alg: 'ES256',
      keyFile: newF,
      previousKeyFiles: [oldF],
      activationDelayMs: 0,
      dryRun: false,
    });
    assert.equal(jwks(after).keys.length, 2);
    await jwtVerify(oldToken, createLocalJWKSet(jwks(after)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EdDSA and RS256 keys sign verifiable assertions', async () => {
  for (const alg of ['EdDSA', 'RS256'] as const) {
    const dir = tmp();
    try {
      const ks = new AssertionKeySet({ alg, keyDir: dir, activationDelayMs: 0, dryRun: false });
      const ra = new RouteAssertion(ks, ISS, {
        audience: 'a',
        groups: 'all',
        roles: 'all',
        claims: [],
        ttlMs: 60_000,
      });
      const { protectedHeader } = await jwtVerify(
        await ra.get(userPrincipal()),
        createLocalJWKSet(jwks(ks)),
        { algorithms: [alg] },
      );
      assert.equal(protectedHeader.alg, alg);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
