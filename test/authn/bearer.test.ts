import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { bearer, bearerFor, fakeCtx, registryFor, run } from './fixtures.js';
import type { ProviderRegistry } from '../../src/authn/providers.js';
import { explainToken } from '../../src/authn/explain.js';

describe('bearer authenticator: token sources, cache and explain', () => {
  let idp: IdpServer;
  let reg: ProviderRegistry;

  before(async () => {
    idp = await startIdp({ algs: ['RS256', 'ES256'] });
    reg = registryFor({
      main: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri },
      other: { issuer: `${idp.issuer}/other`, audiences: [idp.audience], jwks_uri: idp.jwksUri },
    });
    await reg.start();
  });
  after(async () => {
    await reg.close();
    await idp.close();
  });

  it('reads Authorization: Bearer case-insensitively; other schemes are "no credential"', async () => {
    const a = bearerFor(reg);
    const t = await idp.token();
    for (const h of [`Bearer ${t}`, `bearer ${t}`, `BEARER  ${t}`])
      assert.ok((await run(a, [['authorization', h]])).ok, h);
    assert.deepEqual(await run(a, [['Authorization', 'Basic dXNlcjpwYXNz']]), { ok: false, none: true });
    assert.deepEqual(await run(a, []), { ok: false, none: true });
    assert.equal(a.wwwAuthenticate, 'Bearer realm="gatehouse"');
    for (const h of ['Bearer', 'Bearer ', `Bearer ${t} extra`, `Bearer "${t}"`, `Bearer\t${t}`]) {
      const o = await run(a, [['Authorization', h]]);
      assert.ok(!o.ok && 'code' in o && o.code === 'GH_TOKEN_MALFORMED', h);
    }
  });

  it('two credentials in one request are a 400', async () => {
    const t = await idp.token();
    const a = bearerFor(reg, { token: { header: 'X-Api-Token', cookie: 'at', query: 'access_token' } });
    const cases: Array<[Array<[string, string]>, string]> = [
      [[...bearer(t), ...bearer(t)], ''],
      [[...bearer(t), ['x-api-token', t]], ''],
      [[...bearer(t)], `?access_token=${t}`],
      [[['Cookie', `at=${t}; at=${t}`]], ''],
      [
        [
          ['Cookie', `at=${t}`],
          ['X-API-TOKEN', t],
        ],
        '',
      ],
      [[], `?access_token=${t}&access_token=${t}`],
    ];
    for (const [headers, query] of cases) {
      const o = await run(a, headers, query);
      assert.ok(!o.ok && 'code' in o, "!o.ok && 'code' in o");
      assert.deepEqual([o.status, o.code], [400, 'GH_TOKEN_MULTIPLE']);
      assert.match(o.headers?.['WWW-Authenticate'] ?? '', /error="invalid_request"/);
    }
  });

  it('reads a named header, cookie or (when enabled) query parameter, and strips the query token', async () => {
    const t = await idp.token();
    const a = bearerFor(reg, {
      token: { authorization: false, header: 'X-Api-Token', cookie: 'at', query: 'access_token' },
    });
    assert.ok((await run(a, [['X-Api-Token', t]])).ok, "(await run(a, [['X-Api-Token', t]])).ok");
    assert.ok(
      (await run(a, [['Cookie', `theme=dark; at=${t}`]])).ok,
      "(await run(a, [['Cookie', `theme=dark; at=${t}`]])).ok",
    );
    const ctx = fakeCtx([], `?page=2&access_token=${t}&sort=asc`);
    const r = await a.authenticate(ctx);
    assert.equal(r.kind, 'ok');
    assert.equal(ctx.query, '?page=2&sort=asc', 'the token never reaches the upstream URL');
    assert.deepEqual(
      await run(a, bearer(t)),
      { ok: false, none: true },
      'Authorization disabled for this route',
    );
    const def = bearerFor(reg);
    const off = await run(def, [], `?access_token=${t}`);
    assert.deepEqual(
      off.ok === false && 'status' in off ? [off.status, off.code, off.reasons] : off,
      [400, 'GH_TOKEN_IN_QUERY', ['token.in_query']],
      'query tokens are off by default, and a token in the URL is refused rather than forwarded',
    );
    assert.deepEqual(
      await run(def, [], '?token=reset-123&page=2'),
      { ok: false, none: true },
      '?token= is not an OAuth name',
    );
  });

  it('caches verified tokens per provider set, still checking expiry on every request', async () => {
    const a = bearerFor(reg, { providers: ['main'] });
    const now = Math.floor(Date.now() / 1000);
    const t = await idp.token({ exp: now - 58 });
    const first = await run(a, bearer(t));
    assert.ok(first.ok, 'first.ok');
    const second = await run(a, bearer(t));
    assert.ok(second.ok, 'second.ok');
    assert.notEqual(second.principal, first.principal, 'verified again: cached from its second use');
    const third = await run(a, bearer(t));
    assert.ok(third.ok, 'third.ok');
    assert.equal(third.principal, second.principal, 'third request answered from the cache');
    await new Promise((r) => setTimeout(r, 2100));
    const fourth = await run(a, bearer(t));
    assert.ok(
      !fourth.ok && 'code' in fourth && fourth.code === 'GH_TOKEN_EXPIRED',
      'cache entry expired with the token (exp + skew)',
    );
    const onlyOther = bearerFor(reg, { providers: ['other'] });
    const t2 = await idp.token();
    assert.ok((await run(a, bearer(t2))).ok, '(await run(a, bearer(t2))).ok');
    assert.ok((await run(a, bearer(t2))).ok, '(await run(a, bearer(t2))).ok');
    const o = await run(onlyOther, bearer(t2));
    assert.ok(
      !o.ok && 'code' in o && o.code === 'GH_TOKEN_ISSUER',
      'a token cached for one provider set is not accepted by a route trusting another',
    );
  });

  it('admits a token to the cache on its second use: a flood of one-off tokens neither fills the cache nor evicts a reused one', async () => {
    const small = registryFor(
      { main: { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [idp.audience] } },
      { cacheEntries: 4 },
    );
    await small.start();
    try {
      const a = bearerFor(small);
      const reused = await idp.token({ sub: 'reused' });
      await run(a, bearer(reused));
      const cached = await run(a, bearer(reused));
      assert.ok(cached.ok, 'cached.ok');
      assert.equal(small.cache.size, 1);
      for (let i = 0; i < 20; i++)
        assert.ok(
          (await run(a, bearer(await idp.token({ sub: `once-${i}` })))).ok,
          '(await run(a, bearer(await idp.token({ sub: `once-${i}` })))).ok',
        );
      assert.equal(small.cache.size, 1, 'one-off tokens are verified but not cached');
      const again = await run(a, bearer(reused));
      assert.ok(again.ok, 'again.ok');
      assert.equal(again.principal, cached.principal, 'the reused token is still answered from the cache');
    } finally {
      await small.close();
    }
  });

  it('a cached token is answered from the cache only as one well-formed Authorization header; every other shape gets the full checks', async () => {
    const a = bearerFor(reg);
    const t = await idp.token();
    await run(a, bearer(t));
    const cached = await run(a, bearer(t));
    assert.ok(cached.ok, 'cached.ok');
    const hit = await run(a, bearer(t));
    assert.ok(hit.ok, 'hit.ok');
    assert.equal(hit.principal, cached.principal, 'answered from the cache');
    for (const h of [`bearer ${t}`, `Bearer  ${t}`, `BEARER ${t}`]) {
      const o = await run(a, [['Authorization', h]]);
      assert.ok(o.ok, h);
      assert.equal(o.principal, cached.principal, h);
    }
    for (const h of [`Bearer ${t} extra`, `Bearer ${t}"`, `Bearer ${t},`, `Bearer\t${t}`]) {
      const o = await run(a, [['Authorization', h]]);
      assert.ok(!o.ok && 'code' in o && o.code === 'GH_TOKEN_MALFORMED', h);
    }
    const two = await run(a, [...bearer(t), ...bearer(t)]);
    assert.ok(!two.ok && 'code' in two, "!two.ok && 'code' in two");
    assert.deepEqual([two.status, two.code], [400, 'GH_TOKEN_MULTIPLE']);
    const sources = bearerFor(reg, { token: { cookie: 'at' } });
    await run(sources, bearer(t));
    assert.ok((await run(sources, bearer(t))).ok, '(await run(sources, bearer(t))).ok');
    const both = await run(sources, [...bearer(t), ['Cookie', `at=${t}`]]);
    assert.ok(
      !both.ok && 'code' in both && both.code === 'GH_TOKEN_MULTIPLE',
      'a cookie besides a cached token',
    );
  });

  it('credentialId is the jti, else a hash prefix; the principal carries expiry and raw claims', async () => {
    const a = bearerFor(reg);
    const withJti = await run(a, bearer(await idp.token({ jti: 'jti-42' })));
    assert.ok(withJti.ok, 'withJti.ok');
    assert.equal(withJti.principal.credentialId, 'jti-42');
    const noJti = await run(a, bearer(await idp.token({ jti: undefined, email: 'a@example.com' })));
    assert.ok(noJti.ok, 'noJti.ok');
    assert.match(noJti.principal.credentialId ?? '', /^[0-9a-f]{16}$/);
    assert.equal(noJti.principal.email, 'a@example.com');
    assert.equal(typeof noJti.principal.expiresAt, 'number');
    assert.equal(noJti.principal.claims.email, 'a@example.com');
    assert.equal(noJti.principal.method, 'jwt');
  });

  it('explainToken traces every check of the same code path', async () => {
    const ok = await explainToken(reg, `Bearer ${await idp.token({ scp: 'read' })}\n`);
    assert.ok(ok.principal, 'ok.principal');
    assert.deepEqual(
      ok.checks.map((c) => c.check),
      [
        'format',
        'header',
        'provider',
        'alg',
        'typ',
        'key',
        'signature',
        'iss',
        'aud',
        'nbf',
        'exp',
        'iat',
        'lifetime',
        'id_token',
        'principal',
      ],
    );
    assert.ok(
      ok.checks.every((c) => c.pass),
      'ok.checks.every((c) => c.pass)',
    );
    const bad = await explainToken(reg, await idp.token({ aud: 'api://nope' }));
    assert.equal(bad.error?.code, 'GH_TOKEN_AUDIENCE');
    const last = bad.checks.at(-1);
    assert.deepEqual([last?.check, last?.pass], ['aud', false]);
    const expired = await explainToken(reg, await idp.token(), { now: Date.now() + 7200_000 });
    assert.equal(expired.error?.code, 'GH_TOKEN_EXPIRED');
    const restricted = await explainToken(reg, await idp.token(), { providers: ['other'] });
    assert.equal(restricted.error?.code, 'GH_TOKEN_ISSUER');
  });
});
