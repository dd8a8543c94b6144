import type { RuntimeState } from '../../src/config/compile.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { isGatehouseError } from '../../src/errors/index.js';
import { JWKS_PATH } from '../../src/identity/feature.js';
import { PRM_PATH, protectedResourceMetadataUrl } from '../../src/identity/prm.js';
import { EXTRA_SESSION_ACCESS_TOKEN } from '../../src/identity/inject.js';
import { isStripped } from '../../src/identity/strip.js';
import type { CompiledRoute } from '../../src/pipeline/route.js';
import { compileIdentity, fakeCtx, runMutators, userPrincipal } from './fixtures.js';

/** These endpoints never read the runtime state. */
const NO_STATE = {} as RuntimeState;

const UP = 'http://127.0.0.1:9';

function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-idf-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('configured identity headers of any route are stripped on every route, public ones included', () => {
  const c = compileIdentity({
    identity: { strip_headers: ['X-Legacy-User'] },
    routes: [
      { match: { path: '/public' }, upstream: UP, auth: 'none' },
      {
        match: { path: '/app' },
        upstream: UP,
        auth: 'bearer',
        identity: { headers: { X_Tenant: '{claims.tid}', 'X-Employee': '{sub}' } },
      },
    ],
  });
  for (const s of c.stages) {
    for (const n of ['x-tenant', 'x-employee', 'x-legacy-user']) assert.ok(s.stripNames.has(n), n);
    assert.ok(isStripped('x-remote-user', s.stripNames), "isStripped('x-remote-user', s.stripNames)");
  }
  assert.equal(c.stages[0]?.mutators.length, 0, 'public routes get no identity mutator');
});

test('header names are validated with exact key paths; "_" and reserved names are reported', () => {
  const c = compileIdentity({
    routes: [
      {
        upstream: UP,
        auth: 'bearer',
        identity: {
          headers: {
            'X Bad': '{sub}',
            X_Tenant: '{claims.tid}',
            'X-Forwarded-For': '{sub}',
            'x-tenant': '{sub}',
            'X-Who': '{nobody}',
          },
        },
      },
    ],
  });
  const by = (p: string) => c.issues.filter((i) => i.path === p);
  assert.match(by('routes[0].identity.headers.X Bad')[0]?.message ?? '', /not a valid header name/);
  assert.equal(by('routes[0].identity.headers.X_Tenant')[0]?.severity, 'warning');
  assert.match(by('routes[0].identity.headers.X-Forwarded-For')[0]?.message ?? '', /cannot be set/);
  assert.match(by('routes[0].identity.headers.x-tenant')[0]?.message ?? '', /also injected as "X_Tenant"/);
  assert.match(by('routes[0].identity.headers.X-Who')[0]?.message ?? '', /unknown placeholder \{nobody\}/);
});

test('assertion without an issuer is a config error naming the route', () => {
  const c = compileIdentity(
    { routes: [{ upstream: UP, auth: 'bearer', identity: { assertion: { audience: 'x' } } }] },
    { dryRun: true },
  );
  assert.equal(c.issues[0]?.path, 'routes[0].identity.assertion');
  assert.match(c.issues[0]?.message ?? '', /issuer/);
});

test('mutator injects headers, Easy Auth and a verifiable assertion; JWKS endpoint publishes the key', () =>
  withDir(async (dir) => {
    const c = compileIdentity(
      {
        server: { external_url: 'https://gw.example.com' },
        identity: { assertion: { key_dir: 'keys' } },
        routes: [
          {
            upstream: UP,
            auth: 'bearer',
            identity: {
              headers: 'oauth2-proxy',
              easy_auth: { provider_name: 'aad' },
              assertion: { audience: 'https://app', groups: ['g-staff'] },
            },
          },
        ],
      },
      { baseDir: dir },
    );
    assert.deepEqual(
      c.issues.filter((i) => i.severity === 'error'),
      [],
    );
    const ctx = fakeCtx({ principal: userPrincipal() });
    await runMutators(c.stages[0]!, ctx);
    assert.equal(ctx.inject.get('X-Forwarded-User'), userPrincipal().subject);
    assert.equal(ctx.inject.get('X-Forwarded-Groups'), 'g-admins,g-finance,g-staff');
    assert.equal(ctx.inject.get('X-MS-CLIENT-PRINCIPAL-IDP'), 'aad');
    assert.equal(ctx.inject.get('X-MS-CLIENT-PRINCIPAL-NAME'), 'alice@example.com');
    assert.equal(ctx.drop.has('authorization'), false, 'verified bearer token is kept by default');

    const jwksEp = c.endpoints.find((e) => e.path === JWKS_PATH)!;
    const jctx = fakeCtx({ path: JWKS_PATH });
    await jwksEp.handle(jctx, NO_STATE);
    assert.equal(jctx.written.status, 200);
    const set = JSON.parse(jctx.written.body!) as JSONWebKeySet;
    const { payload } = await jwtVerify(ctx.inject.get('X-Gatehouse-Assertion')!, createLocalJWKSet(set), {
      issuer: 'https://gw.example.com',
      audience: 'https://app',
    });
    assert.deepEqual(payload.groups, ['g-staff']);
  }));

test('identity headers over max_header_bytes refuse the request with GH_IDENTITY_TOO_LARGE', async () => {
  const c = compileIdentity({
    routes: [
      {
        upstream: UP,
        auth: 'bearer',
        identity: { headers: { 'X-Groups': '{groups}' }, max_header_bytes: '1kb' },
      },
    ],
  });
  const many = Array.from({ length: 100 }, (_, i) => `group-number-${i}`);
  const ctx = fakeCtx({ principal: userPrincipal({ groups: many }) });
  await assert.rejects(
    runMutators(c.stages[0]!, ctx),
    (e) => isGatehouseError(e, 'GH_IDENTITY_TOO_LARGE') && e.status === 403,
  );
  const ok = fakeCtx({ principal: userPrincipal() });
  await runMutators(c.stages[0]!, ok);
  assert.equal(ok.inject.get('X-Groups'), 'g-admins,g-finance,g-staff');
});

test('forward_token: auto removes it for sessions, session replaces it, remove drops bearer tokens', async () => {
  const c = compileIdentity({
    routes: [
      { upstream: UP, auth: 'session' },
      { upstream: UP, auth: 'session', identity: { forward_token: 'session' } },
      { upstream: UP, auth: 'bearer', identity: { forward_token: 'remove' } },
      { upstream: UP, auth: 'bearer', identity: { forward_token: 'keep' } },
    ],
  });
  const session = userPrincipal({ method: 'session' });
  const a = fakeCtx({ principal: session });
  await runMutators(c.stages[0]!, a);
  assert.ok(a.drop.has('authorization'), "a.drop.has('authorization')");
  assert.equal(a.inject.size, 0);

  const b = fakeCtx({ principal: session, extra: { [EXTRA_SESSION_ACCESS_TOKEN]: 'at-123' } });
  await runMutators(c.stages[1]!, b);
  assert.ok(b.drop.has('authorization'), "b.drop.has('authorization')");
  assert.equal(b.inject.get('Authorization'), 'Bearer at-123');

  const d = fakeCtx({ principal: userPrincipal() });
  await runMutators(c.stages[2]!, d);
  assert.ok(d.drop.has('authorization'), "d.drop.has('authorization')");

  const e = fakeCtx({ principal: userPrincipal({ method: 'apikey' }) });
  await runMutators(c.stages[3]!, e);
  assert.equal(e.drop.has('authorization'), false);
});

test('RFC 9728 metadata: root and path-suffixed documents, and the URL for WWW-Authenticate', async () => {
  const c = compileIdentity({
    providers: undefined,
    routes: [
      {
        match: { path: '/api/' },
        upstream: UP,
        auth: 'bearer',
        identity: {
          resource_metadata: {
            authorization_servers: ['https://login.example.com/t1/v2.0'],
            scopes_supported: ['api.read'],
          },
        },
      },
      {
        match: { path: '/mcp' },
        upstream: UP,
        auth: ['bearer'],
        identity: { resource_metadata: { authorization_servers: ['https://idp.example.org'] } },
      },
      { match: { path: '/web' }, upstream: UP, auth: 'session' },
    ],
  });
  const ep = c.endpoints.find((e) => e.path === PRM_PATH)!;
  assert.equal(ep.prefix, true);
  const get = async (path: string) => {
    const ctx = fakeCtx({ path });
    await ep.handle(ctx, NO_STATE);
    return JSON.parse(ctx.written.body!) as Record<string, unknown>;
  };
  assert.deepEqual(await get(`${PRM_PATH}/api`), {
    resource: 'https://gw.example.com/api',
    authorization_servers: ['https://login.example.com/t1/v2.0'],
    bearer_methods_supported: ['header'],
    scopes_supported: ['api.read'],
  });
  const root = await get(PRM_PATH);
  assert.equal(root.resource, 'https://gw.example.com');
  assert.deepEqual(root.authorization_servers, [
    'https://login.example.com/t1/v2.0',
    'https://idp.example.org',
  ]);
  await assert.rejects(
    Promise.resolve().then(() => ep.handle(fakeCtx({ path: `${PRM_PATH}/web` }), NO_STATE)),
    (e) => isGatehouseError(e, 'GH_ROUTE_NOT_FOUND'),
  );
  const route = { config: c.config.routes[0] } as unknown as CompiledRoute;
  assert.equal(protectedResourceMetadataUrl(fakeCtx({ route })), `https://gw.example.com${PRM_PATH}/api`);
  assert.equal(
    protectedResourceMetadataUrl(
      fakeCtx({ route: { config: c.config.routes[2] } as unknown as CompiledRoute }),
    ),
    undefined,
  );
});
