import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp, generateIdpKey } from '../helpers/idp-server.js';
import { bearer, bearerFor, memoryLogger, registryFor, run } from './fixtures.js';

function codeOf(o: Awaited<ReturnType<typeof run>>): string {
  if (o.ok) return 'ok';
  return 'none' in o ? 'none' : `${o.status} ${o.code} ${o.reasons[0]}`;
}

describe('JWKS loading, refresh, rotation and outages', () => {
  it('loads keys through discovery at start and is ready only then', async () => {
    const idp = await startIdp({ issuerPath: '/realms/demo' });
    const reg = registryFor({ kc: { issuer: idp.issuer, audiences: [idp.audience], preset: 'keycloak' } });
    try {
      assert.equal(idp.counts.jwks, 0, 'compiling does no network I/O');
      await reg.start();
      assert.deepEqual([idp.counts.discovery, idp.counts.jwks], [1, 1]);
      const o = await run(bearerFor(reg), bearer(await idp.token()));
      assert.ok(o.ok, 'o.ok');
      assert.equal(idp.counts.jwks, 1, 'no fetch per request');
    } finally {
      await reg.close();
      await idp.close();
    }
  });

  it('start fails, naming the provider, when the IdP is down; discovery must name the same issuer', async () => {
    const idp = await startIdp();
    idp.outage = '503';
    const reg = registryFor({ down: { issuer: idp.issuer, audiences: ['x'] } });
    await assert.rejects(reg.start(), /provider "down": JWKS fetch from .* failed: HTTP 503/);
    assert.equal(idp.counts.discovery, 3, 'three attempts, then give up');
    await reg.close();
    idp.outage = 'none';
    const liar = registryFor({
      liar: { issuer: `${idp.issuer}/other`, discovery_url: idp.discoveryUrl, audiences: ['x'] },
    });
    await assert.rejects(liar.start(), /names issuer .*, expected/);
    await liar.close();
    await idp.close();
  });

  it('picks up a rotated key after exactly one refetch and drops cached tokens of the removed key', async () => {
    const idp = await startIdp();
    const { logger, lines } = memoryLogger();
    const reg = registryFor(
      { p: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri, jwks_cooldown: '200ms' } },
      { logger },
    );
    try {
      await reg.start();
      const auth = bearerFor(reg);
      const oldToken = await idp.token();
      assert.ok((await run(auth, bearer(oldToken))).ok, '(await run(auth, bearer(oldToken))).ok');
      await sleep(250);
      const fresh = await idp.rotate();
      const before = idp.counts.jwks;
      assert.ok((await run(auth, bearer(await idp.token({}, { key: fresh })))).ok, 'new kid accepted');
      assert.equal(idp.counts.jwks, before + 1, 'one refetch');
      assert.ok(
        (await run(auth, bearer(await idp.token({}, { key: fresh })))).ok,
        '(await run(auth, bearer(await idp.token({}, { key: fresh })))).ok',
      );
      assert.equal(idp.counts.jwks, before + 1, 'no further fetch for the now-known kid');
      assert.equal(
        codeOf(await run(auth, bearer(oldToken))),
        '401 GH_TOKEN_INVALID token.kid_unknown',
        'cached verification died with its key',
      );
      assert.ok(
        lines.some((l) => l.msg === 'JWKS keys rotated'),
        "lines.some((l) => l.msg === 'JWKS keys rotated')",
      );
    } finally {
      await reg.close();
      await idp.close();
    }
  });

  it('random-kid storms cause at most one JWKS fetch per cooldown; concurrent misses share one fetch', async () => {
    const idp = await startIdp();
    const reg = registryFor({
      p: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri, jwks_cooldown: '400ms' },
    });
    try {
      await reg.start();
      const auth = bearerFor(reg);
      const signer = await generateIdpKey('RS256');
      const forged = () => idp.signRaw({ alg: 'RS256', kid: randomUUID() }, idp.claims(), signer);
      await sleep(450);
      idp.delayMs = 100;
      const start = idp.counts.jwks;
      const burst = await Promise.all(Array.from({ length: 200 }, () => run(auth, bearer(forged()))));
      assert.ok(
        burst.every((o) => codeOf(o) === '401 GH_TOKEN_INVALID token.kid_unknown'),
        "burst.every((o) => codeOf(o) === '401 GH_TOKEN_INVALID token.kid_unknown')",
      );
      assert.equal(idp.counts.jwks - start, 1, '200 concurrent random kids → one fetch');
      idp.delayMs = 0;
      const t0 = Date.now();
      let n = 0;
      while (Date.now() - t0 < 1000) {
        assert.equal(codeOf(await run(auth, bearer(forged()))), '401 GH_TOKEN_INVALID token.kid_unknown');
        n++;
        await sleep(5);
      }
      const elapsed = Date.now() - t0 + 500;
      const allowed = 1 + Math.ceil(elapsed / 400);
      assert.ok(
        idp.counts.jwks - start <= allowed,
        `${idp.counts.jwks - start} fetches for ${n} random kids over ${elapsed} ms (allowed ${allowed})`,
      );
      const rotated = await idp.addKey('ES256');
      await sleep(450);
      idp.delayMs = 150;
      const mid = idp.counts.jwks;
      const good = await Promise.all(
        Array.from({ length: 50 }, async () => run(auth, bearer(await idp.token({}, { key: rotated })))),
      );
      assert.ok(
        good.every((o) => o.ok),
        'all 50 concurrent requests with the new kid pass',
      );
      assert.equal(idp.counts.jwks - mid, 1, 'and share one fetch');
    } finally {
      await reg.close();
      await idp.close();
    }
  });

  it('keeps verifying with held keys within jwks_stale during an outage, then fails closed with 503, then recovers', async () => {
    const idp = await startIdp();
    const reg = registryFor({
      p: {
        issuer: idp.issuer,
        audiences: [idp.audience],
        jwks_uri: idp.jwksUri,
        jwks_refresh: '200ms',
        jwks_stale: '500ms',
        jwks_cooldown: '100ms',
      },
    });
    try {
      await reg.start();
      const auth = bearerFor(reg);
      const cached = await idp.token();
      assert.ok((await run(auth, bearer(cached))).ok, 'verified and cached before the outage');
      idp.outage = 'close';
      const down = Date.now();
      await sleep(300);
      assert.ok((await run(auth, bearer(await idp.token()))).ok, 'within the stale window');
      while (Date.now() - down < 900) await sleep(50);
      const o = await run(auth, bearer(await idp.token()));
      assert.equal(codeOf(o), '503 GH_IDP_UNAVAILABLE idp.unavailable');
      assert.ok(!o.ok && 'headers' in o && o.headers?.['Retry-After'], 'Retry-After is set');
      assert.equal(
        codeOf(await run(auth, bearer(cached))),
        '503 GH_IDP_UNAVAILABLE idp.unavailable',
        'a cached token does not outlive the stale window',
      );
      idp.outage = 'none';
      await sleep(150);
      assert.ok((await run(auth, bearer(await idp.token()))).ok, 'recovers once the IdP answers');
    } finally {
      await reg.close();
      await idp.close();
    }
  });

  it('an unknown kid while the IdP is unreachable is a 503, not a 401', async () => {
    const idp = await startIdp();
    const reg = registryFor({
      p: {
        issuer: idp.issuer,
        audiences: [idp.audience],
        jwks_uri: idp.jwksUri,
        jwks_cooldown: '50ms',
        http_timeout: '300ms',
      },
    });
    try {
      await reg.start();
      await sleep(60);
      idp.outage = 'hang';
      const k = await idp.addKey('RS256', { publish: true });
      const t0 = Date.now();
      assert.equal(
        codeOf(await run(bearerFor(reg), bearer(await idp.token({}, { key: k })))),
        '503 GH_IDP_UNAVAILABLE idp.unavailable',
      );
      assert.ok(Date.now() - t0 < 1500, 'bounded by http_timeout');
    } finally {
      await reg.close();
      await idp.close();
    }
  });

  it('fetches keys lazily when never started (explain, validate) and stops timers on close', async () => {
    const idp = await startIdp();
    const reg = registryFor({ p: { issuer: idp.issuer, audiences: [idp.audience] } });
    assert.ok(
      (await run(bearerFor(reg), bearer(await idp.token()))).ok,
      '(await run(bearerFor(reg), bearer(await idp.token()))).ok',
    );
    assert.equal(idp.counts.jwks, 1);
    await reg.close();
    await idp.close();
  });
});
