import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { bearer, bearerFor, registryFor, run } from './fixtures.js';
import type { ProviderRegistry } from '../../src/authn/providers.js';
import type { Authenticator } from '../../src/pipeline/stages.js';

const OPAQUE = 'opaque-2YotnFZFEjr1zCsicMWpAA';

describe('opaque tokens by introspection (RFC 7662)', () => {
  let idp: IdpServer;
  let reg: ProviderRegistry;
  let auth: Authenticator;

  before(async () => {
    idp = await startIdp();
    reg = registryFor({
      okta: {
        issuer: idp.issuer,
        preset: 'okta',
        audiences: [idp.audience],
        introspection: {
          client_id: 'gatehouse',
          client_secret: 'introspection-secret',
          cache_ttl: '400ms',
          negative_cache_ttl: '150ms',
        },
      },
      // jwks_uri pinned, no introspection endpoint: discovery still supplies the endpoint.
      pinned: {
        issuer: idp.issuer,
        jwks_uri: idp.jwksUri,
        audiences: [idp.audience],
        introspection: { client_id: 'gatehouse', client_secret: 'introspection-secret' },
      },
      post: {
        issuer: `${idp.issuer}/post`,
        discovery: false,
        token_type: 'opaque',
        audiences: [idp.audience],
        introspection: {
          endpoint: idp.introspectionUrl,
          client_id: 'gatehouse',
          client_secret: 'introspection-secret',
          auth_method: 'client_secret_post',
        },
      },
    });
    auth = bearerFor(reg, { providers: ['okta'] });
  });
  after(async () => {
    await reg.close();
    await idp.close();
  });

  it('finds the introspection endpoint by discovery when jwks_uri is pinned and no endpoint is set', async () => {
    const token = 'opaque-pinned-jwks-uri-0001';
    idp.setOpaque(token, {
      active: true,
      sub: 'dora',
      aud: idp.audience,
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    const r = await run(bearerFor(reg, { providers: ['pinned'] }), bearer(token));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.principal.method, 'introspection');
    assert.equal(r.principal.subject, 'dora');
  });

  it('maps an active token to a principal, authenticating with client_secret_basic', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    idp.setOpaque(OPAQUE, {
      active: true,
      sub: 'alice',
      aud: idp.audience,
      scope: 'orders:read orders:write',
      client_id: 'app-1',
      exp,
      groups: ['staff'],
    });
    const o = await run(auth, bearer(OPAQUE));
    assert.ok(o.ok, JSON.stringify(o));
    assert.equal(o.principal.method, 'introspection');
    assert.deepEqual(o.principal.scopes, ['orders:read', 'orders:write']);
    assert.deepEqual(o.principal.groups, ['staff']);
    assert.equal(o.principal.issuer, idp.issuer);
    assert.equal(o.principal.expiresAt, exp);
    assert.match(o.principal.credentialId ?? '', /^[0-9a-f]{16}$/);
    assert.match(idp.lastIntrospection?.authorization ?? '', /^Basic /);
    assert.equal(idp.lastIntrospection?.form.get('token'), OPAQUE);
    assert.equal(
      idp.lastIntrospection?.form.get('client_secret'),
      null,
      'no secret in the form with client_secret_basic',
    );
  });

  it('caches active results up to the TTL and collapses concurrent calls into one', async () => {
    const t = 'opaque-concurrent-1';
    idp.setOpaque(t, {
      active: true,
      sub: 'bob',
      aud: idp.audience,
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    idp.delayMs = 100;
    const before = idp.counts.introspect;
    const all = await Promise.all(Array.from({ length: 30 }, () => run(auth, bearer(t))));
    idp.delayMs = 0;
    assert.ok(
      all.every((o) => o.ok),
      'all.every((o) => o.ok)',
    );
    assert.equal(idp.counts.introspect - before, 1, 'one call for 30 concurrent requests');
    assert.ok((await run(auth, bearer(t))).ok, '(await run(auth, bearer(t))).ok');
    assert.equal(idp.counts.introspect - before, 1, 'cached');
    await sleep(450);
    assert.ok((await run(auth, bearer(t))).ok, '(await run(auth, bearer(t))).ok');
    assert.equal(idp.counts.introspect - before, 2, 'refetched after cache_ttl');
  });

  it('caches until exp when exp comes first, and rejects inactive tokens with a short negative cache', async () => {
    const t = 'opaque-short';
    idp.setOpaque(t, {
      active: true,
      sub: 'carol',
      aud: idp.audience,
      exp: Math.floor(Date.now() / 1000) - 61,
    });
    const o = await run(auth, bearer(t));
    assert.ok(
      !o.ok && 'code' in o && o.code === 'GH_TOKEN_EXPIRED',
      "!o.ok && 'code' in o && o.code === 'GH_TOKEN_EXPIRED'",
    );
    const n0 = idp.counts.introspect;
    for (let i = 0; i < 3; i++) {
      const r = await run(auth, bearer('opaque-unknown'));
      assert.ok(!r.ok && 'code' in r, "!r.ok && 'code' in r");
      assert.deepEqual([r.status, r.code, r.reasons[0]], [401, 'GH_TOKEN_INVALID', 'token.inactive']);
    }
    assert.equal(idp.counts.introspect - n0, 1, 'negative result cached');
    await sleep(200);
    await run(auth, bearer('opaque-unknown'));
    assert.equal(idp.counts.introspect - n0, 2, 'negative cache is brief');
  });

  it('checks audience and issuer of the introspection answer', async () => {
    idp.setOpaque('opaque-aud', { active: true, sub: 'x', aud: 'api://other' });
    const o = await run(auth, bearer('opaque-aud'));
    assert.ok(
      !o.ok && 'code' in o && o.code === 'GH_TOKEN_AUDIENCE',
      "!o.ok && 'code' in o && o.code === 'GH_TOKEN_AUDIENCE'",
    );
    idp.setOpaque('opaque-iss', { active: true, sub: 'x', aud: idp.audience, iss: 'https://evil' });
    const p = await run(auth, bearer('opaque-iss'));
    assert.ok(
      !p.ok && 'code' in p && p.code === 'GH_TOKEN_ISSUER',
      "!p.ok && 'code' in p && p.code === 'GH_TOKEN_ISSUER'",
    );
  });

  it('fails closed with 503 when introspection is down, slow or refuses the client', async () => {
    for (const outage of ['503', 'close'] as const) {
      idp.outage = outage;
      const o = await run(auth, bearer(`opaque-down-${outage}`));
      assert.ok(!o.ok && 'code' in o, "!o.ok && 'code' in o");
      assert.deepEqual([o.status, o.code], [503, 'GH_IDP_UNAVAILABLE']);
    }
    idp.outage = 'none';
    const wrong = registryFor({
      w: {
        issuer: idp.issuer,
        audiences: [idp.audience],
        introspection: { client_id: 'gatehouse', client_secret: 'wrong' },
      },
    });
    const o = await run(bearerFor(wrong), bearer('opaque-x'));
    assert.ok(
      !o.ok && 'code' in o && o.code === 'GH_IDP_UNAVAILABLE',
      'a 401 from the endpoint is a configuration fault, not an inactive token',
    );
    await wrong.close();
  });

  it('client_secret_post and token_type: opaque (even for JWT-shaped tokens)', async () => {
    const a = bearerFor(reg, { providers: ['post'] });
    const jwtShaped = await idp.token({ iss: `${idp.issuer}/post` });
    idp.setOpaque(jwtShaped, { active: true, sub: 'svc', client_id: 'svc', aud: idp.audience });
    const o = await run(a, bearer(jwtShaped));
    assert.ok(o.ok, JSON.stringify(o));
    assert.equal(o.principal.kind, 'client');
    assert.equal(idp.lastIntrospection?.form.get('client_secret'), 'introspection-secret');
    assert.equal(idp.lastIntrospection?.authorization, undefined);
  });

  it('an opaque token on a route without an introspecting provider is malformed', async () => {
    const jwtOnly = registryFor({ j: { issuer: idp.issuer, audiences: [idp.audience] } });
    const o = await run(bearerFor(jwtOnly), bearer(OPAQUE));
    assert.ok(!o.ok && 'code' in o, "!o.ok && 'code' in o");
    assert.deepEqual([o.status, o.code, o.reasons[0]], [401, 'GH_TOKEN_MALFORMED', 'token.not_jwt']);
    assert.equal(idp.counts.jwks, 0, 'nothing fetched for it');
    await jwtOnly.close();
  });
});
