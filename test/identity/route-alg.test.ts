import type { RuntimeState } from '../../src/config/compile.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { configSchema } from '../../src/config/schema.js';
import { JWKS_PATH } from '../../src/identity/feature.js';
import { generateAssertionKey, RETIRED_KEY_GRACE_MS } from '../../src/identity/keys.js';
import { AssertionKeySet } from '../../src/identity/keyset.js';
import { compileIdentity, fakeCtx, runMutators, userPrincipal } from './fixtures.js';

// Per-route assertion algorithm (routes[].identity.assertion.alg): one signing key per
// algorithm in use, all published in the JWKS, each route signed with its own algorithm.

const UP = 'http://127.0.0.1:9';
const NO_STATE = {} as RuntimeState;

function withDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-alg-'));
  return Promise.resolve()
    .then(() => fn(dir))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

const jwks = (ks: AssertionKeySet): JSONWebKeySet => JSON.parse(ks.jwksJson()) as JSONWebKeySet;

test('two routes, RS256 and the default ES256: each assertion is signed with its own algorithm and verifies against the one JWKS', () =>
  withDir(async (dir) => {
    const c = compileIdentity(
      {
        server: { external_url: 'https://gw.example.com' },
        identity: { assertion: { key_dir: 'keys' } },
        routes: [
          {
            match: { path: '/legacy' },
            upstream: UP,
            auth: 'bearer',
            identity: { assertion: { audience: 'https://iis', alg: 'RS256' } },
          },
          { upstream: UP, auth: 'bearer', identity: { assertion: { audience: 'https://app' } } },
        ],
      },
      { baseDir: dir },
    );
    assert.deepEqual(
      c.issues.filter((i) => i.severity === 'error'),
      [],
    );
    const files = readdirSync(join(dir, 'keys')).filter((f) => f.endsWith('.pem'));
    assert.deepEqual(files.map((f) => f.replace(/^\d{13}\./, '')).sort(), ['ES256.key.pem', 'RS256.key.pem']);

    const jctx = fakeCtx({ path: JWKS_PATH });
    await c.endpoints.find((e) => e.path === JWKS_PATH)!.handle(jctx, NO_STATE);
    const set = JSON.parse(jctx.written.body!) as JSONWebKeySet;
    assert.deepEqual(set.keys.map((k) => `${k.kty}/${k.alg}/${k.use}`).sort(), [
      'EC/ES256/sig',
      'RSA/RS256/sig',
    ]);
    for (const k of set.keys) {
      assert.ok(k.kid, 'every key has a kid');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        assert.equal((k as Record<string, unknown>)[priv], undefined);
    }

    const signed = async (i: number, audience: string) => {
      const ctx = fakeCtx({ principal: userPrincipal() });
      await runMutators(c.stages[i]!, ctx);
      const tok = ctx.inject.get('X-Gatehouse-Assertion')!;
      await jwtVerify(tok, createLocalJWKSet(set), { issuer: 'https://gw.example.com', audience });
      return decodeProtectedHeader(tok);
    };
    const legacy = await signed(0, 'https://iis');
    const app = await signed(1, 'https://app');
    assert.equal(legacy.alg, 'RS256');
    assert.equal(app.alg, 'ES256');
    assert.equal(legacy.kid, set.keys.find((k) => k.alg === 'RS256')?.kid);
    assert.equal(app.kid, set.keys.find((k) => k.alg === 'ES256')?.kid);
  }));

test('a route alg other than the key_file algorithm is a config error naming the route key', () =>
  withDir((dir) => {
    writeFileSync(join(dir, 'k.pem'), generateAssertionKey('ES256').export({ format: 'pem', type: 'pkcs8' }));
    const c = compileIdentity(
      {
        server: { external_url: 'https://gw.example.com' },
        identity: { assertion: { key_file: 'k.pem' } },
        routes: [
          { upstream: UP, auth: 'bearer', identity: { assertion: { audience: 'a', alg: 'ES256' } } },
          { upstream: UP, auth: 'bearer', identity: { assertion: { audience: 'b', alg: 'RS256' } } },
        ],
      },
      { baseDir: dir },
    );
    const errors = c.issues.filter((i) => i.severity === 'error');
    assert.deepEqual(
      errors.map((i) => i.path),
      ['routes[1].identity.assertion.alg'],
    );
    assert.match(errors[0]!.message, /RS256 needs its own signing key.*key_file signs ES256 only.*key_dir/);
  }));

test('the schema refuses an unknown alg with the key path', () => {
  const r = configSchema.safeParse({
    server: { external_url: 'https://gw.example.com' },
    routes: [{ upstream: UP, auth: 'bearer', identity: { assertion: { audience: 'a', alg: 'HS256' } } }],
  });
  assert.equal(r.success, false);
  const issue = r.error?.issues.find((i) => i.path.join('.') === 'routes.0.identity.assertion.alg');
  assert.ok(issue, JSON.stringify(r.error?.issues));
  assert.match(issue.message, /RS256/);
});

test('each algorithm rotates on its own: new key published before it signs, the old one kept for the overlap', () =>
  withDir((dir) => {
    let now = Date.now();
    const opts = {
      alg: 'ES256' as const,
      extraAlgs: ['RS256' as const],
      keyDir: dir,
      activationDelayMs: 120_000,
      rotateAfterMs: 3_600_000,
      dryRun: false,
      now: () => now,
    };
    const ks = new AssertionKeySet(opts);
    const old = { es: ks.signingKey('ES256').kid, rs: ks.signingKey('RS256').kid };
    assert.equal(ks.signingKey().kid, old.es, 'the default algorithm is identity.assertion.algorithm');
    now += 3_600_000;
    ks.refresh();
    assert.equal(jwks(ks).keys.length, 4, 'both new keys published ahead of use');
    assert.equal(ks.signingKey('RS256').kid, old.rs, 'old RS256 key still signs during activation delay');
    now += 120_000;
    const fresh = { es: ks.signingKey('ES256').kid, rs: ks.signingKey('RS256').kid };
    assert.notEqual(fresh.rs, old.rs);
    assert.notEqual(fresh.es, old.es);
    assert.equal(jwks(ks).keys.length, 4, 'old keys stay for their tokens');
    now += RETIRED_KEY_GRACE_MS + 1000;
    assert.deepEqual(
      jwks(ks)
        .keys.map((k) => k.kid)
        .sort(),
      [fresh.es, fresh.rs].sort(),
    );
    const restarted = new AssertionKeySet(opts);
    assert.equal(restarted.signingKey('RS256').kid, fresh.rs);
  }));

test('keys of an algorithm no route uses any more stay published for the grace period, then go', () =>
  withDir(() => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-alg-drop-'));
    try {
      let now = Date.now();
      const both = new AssertionKeySet({
        alg: 'ES256',
        extraAlgs: ['RS256'],
        keyDir: dir,
        activationDelayMs: 0,
        dryRun: false,
        now: () => now,
      });
      const rs = both.signingKey('RS256').kid;
      // Reload without the RS256 route.
      const es = new AssertionKeySet({
        alg: 'ES256',
        keyDir: dir,
        activationDelayMs: 0,
        dryRun: false,
        now: () => now,
      });
      assert.ok(
        jwks(es).keys.some((k) => k.kid === rs),
        'tokens signed before the reload still verify',
      );
      assert.throws(() => es.signingKey('RS256'), /no RS256 assertion signing key/);
      now += RETIRED_KEY_GRACE_MS + 1000;
      assert.deepEqual(
        jwks(es).keys.map((k) => k.alg),
        ['ES256'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test('dry run (gatehouse validate) with a route alg writes nothing and still signs', () =>
  withDir((dir) => {
    const keys = join(dir, 'none-yet');
    const ks = new AssertionKeySet({
      alg: 'ES256',
      extraAlgs: ['RS256'],
      keyDir: keys,
      activationDelayMs: 0,
      dryRun: true,
    });
    assert.equal(ks.signingKey('RS256').alg, 'RS256');
    assert.throws(() => readdirSync(keys), /ENOENT/);
  }));

test('only the algorithms routes use get a key: every route RS256 means no ES256 key is generated or published', () =>
  withDir(async (dir) => {
    const c = compileIdentity(
      {
        server: { external_url: 'https://gw.example.com' },
        identity: { assertion: { key_dir: 'keys' } },
        routes: [
          {
            upstream: UP,
            auth: 'bearer',
            identity: { assertion: { audience: 'https://iis', alg: 'RS256' } },
          },
        ],
      },
      { baseDir: dir },
    );
    assert.deepEqual(
      c.issues.filter((i) => i.severity === 'error'),
      [],
    );
    assert.deepEqual(
      readdirSync(join(dir, 'keys'))
        .filter((f) => f.endsWith('.pem'))
        .map((f) => f.replace(/^\d{13}\./, '')),
      ['RS256.key.pem'],
    );
    const jctx = fakeCtx({ path: JWKS_PATH });
    await c.endpoints.find((e) => e.path === JWKS_PATH)!.handle(jctx, NO_STATE);
    const set = JSON.parse(jctx.written.body!) as JSONWebKeySet;
    assert.deepEqual(
      set.keys.map((k) => k.alg),
      ['RS256'],
    );
    const ctx = fakeCtx({ principal: userPrincipal() });
    await runMutators(c.stages[0]!, ctx);
    assert.equal(decodeProtectedHeader(ctx.inject.get('X-Gatehouse-Assertion')!).alg, 'RS256');
  }));
