import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { authzFeature, publicAuthorizer } from '../../src/authz/feature.js';
import { denyError } from '../../src/authz/deny.js';
import { configSchema, type GatehouseConfig, type RouteConfig } from '../../src/config/schema.js';
import type { CompileContext, ConfigIssue } from '../../src/pipeline/feature.js';
import { emptyStages, type RouteStages, type CompiledRoute } from '../../src/pipeline/route.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Principal } from '../../src/pipeline/principal.js';
import type { Authenticator } from '../../src/pipeline/stages.js';

interface Compiled {
  readonly issues: ConfigIssue[];
  readonly stages: RouteStages[];
}

/** Runs the authz feature over a config document the way compileState does. */
function compile(doc: Record<string, unknown>, services: [string, unknown][] = []): Compiled {
  const config: GatehouseConfig = configSchema.parse(doc);
  const issues: ConfigIssue[] = [];
  const cctx: CompileContext<GatehouseConfig> = {
    config,
    logger: undefined as never,
    baseDir: '/',
    issue: (path, message, severity = 'error') => issues.push({ path, message, severity }),
    services: new Map(services),
    onStart: () => {},
    onClose: () => {},
    registerEndpoint: () => {},
    dryRun: true,
  };
  authzFeature.compileGlobal?.(cctx);
  const stages = config.routes.map((r: RouteConfig, i: number) => {
    const s = emptyStages();
    authzFeature.compileRoute?.(r, `routes[${i}]`, cctx, s);
    return s;
  });
  return { issues, stages };
}

const route = (extra: Record<string, unknown>) => ({ upstream: 'http://127.0.0.1:1', ...extra });
const user = (over: Partial<Principal> = {}): Principal => ({
  kind: 'user',
  subject: 'alice',
  provider: 'okta',
  method: 'jwt',
  groups: [],
  roles: [],
  scopes: [],
  claims: {},
  ...over,
});

function ctx(over: Partial<RequestContext> = {}): RequestContext {
  return {
    method: 'GET',
    path: '/',
    clientIp: '127.0.0.1',
    route: undefined,
    principal: undefined,
    extra: {},
    ...over,
  } as RequestContext;
}

describe('authz feature', () => {
  test('a protected route must say who may pass', () => {
    const { issues, stages } = compile({ routes: [route({ auth: 'bearer' })] });
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, 'routes[0].policy');
    assert.equal(issues[0]?.severity, 'error');
    assert.match(issues[0]?.message ?? '', /allow: authenticated/);
    assert.equal(stages[0]?.authorizer, undefined);
  });

  test('allow: authenticated lets any verified identity through, and only those', () => {
    const { issues, stages } = compile({ routes: [route({ auth: 'bearer', allow: 'authenticated' })] });
    assert.deepEqual(issues, []);
    const a = stages[0]?.authorizer;
    assert.ok(a, 'a');
    assert.deepEqual(a.authorize(ctx(), user()).allow, true);
    assert.deepEqual(a.authorize(ctx(), undefined).allow, false);
  });

  test('named policies: unknown names are errors at their path, lists must all allow', () => {
    const doc = {
      policies: {
        eng: { rules: [{ effect: 'allow', when: { group: 'eng' } }] },
        office: { rules: [{ effect: 'allow', when: { source_ip: '10.0.0.0/8' } }] },
      },
      routes: [
        route({ auth: 'bearer', policy: ['eng', 'office'] }),
        route({ auth: 'bearer', policy: ['eng', 'nope'] }),
        route({ auth: 'bearer', policy: 'missing' }),
      ],
    };
    const { issues, stages } = compile(doc);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['routes[1].policy[1]', 'routes[2].policy'],
    );
    assert.match(issues[0]?.message ?? '', /unknown policy "nope".*eng, office/);
    const a = stages[0]?.authorizer;
    assert.ok(a, 'a');
    assert.equal(a.authorize(ctx({ clientIp: '10.1.1.1' }), user({ groups: ['eng'] })).allow, true);
    assert.equal(a.authorize(ctx({ clientIp: '192.0.2.1' }), user({ groups: ['eng'] })).allow, false);
  });

  test('policy plus inline rules: both must allow', () => {
    const doc = {
      policies: { eng: { rules: [{ effect: 'allow', when: { group: 'eng' } }] } },
      routes: [
        route({
          auth: 'bearer',
          policy: 'eng',
          rules: [{ name: 'writers', effect: 'allow', when: { role: 'writer' } }],
        }),
      ],
    };
    const a = compile(doc).stages[0]?.authorizer;
    assert.ok(a, 'a');
    assert.equal(a.authorize(ctx(), user({ groups: ['eng'] })).allow, false);
    const d = a.authorize(ctx(), user({ groups: ['eng'], roles: ['writer'] }));
    assert.deepEqual([d.allow, d.rule], [true, 'eng/rules[0],routes[0]/writers']);
  });

  test('allow: authenticated cannot be mixed with rules, nor used on public routes', () => {
    const { issues } = compile({
      routes: [
        route({ auth: 'bearer', allow: 'authenticated', rules: [{ effect: 'allow', when: { group: 'a' } }] }),
        route({ auth: 'none', allow: 'authenticated' }),
      ],
    });
    assert.deepEqual(
      issues.map((i) => [i.path, i.severity]),
      [
        ['routes[0].allow', 'error'],
        ['routes[1].allow', 'error'],
      ],
    );
  });

  test('public routes: always allow without rules; identity rules draw a warning; request rules apply', () => {
    const { issues, stages } = compile({
      routes: [
        route({ auth: 'none' }),
        route({ auth: 'none', rules: [{ effect: 'allow', when: { group: 'eng' } }] }),
        route({ auth: 'none', rules: [{ effect: 'allow', when: { source_ip: '10.0.0.0/8' } }] }),
      ],
    });
    assert.deepEqual(
      issues.map((i) => [i.path, i.severity]),
      [['routes[1].rules', 'warning']],
    );
    assert.equal(stages[0]?.authorizer, publicAuthorizer);
    const d = publicAuthorizer.authorize(ctx(), undefined);
    assert.deepEqual([d.allow, d.reasons], [true, ['route.public']]);
    const ipOnly = stages[2]?.authorizer;
    assert.ok(ipOnly, 'ipOnly');
    assert.equal(ipOnly.authorize(ctx({ clientIp: '10.2.3.4' }), undefined).allow, true);
    assert.equal(ipOnly.authorize(ctx({ clientIp: '192.0.2.9' }), undefined).allow, false);
  });

  test('explain mode (or audit level debug) records the trace in ctx.extra.trace', () => {
    const doc = { routes: [route({ auth: 'bearer', rules: [{ effect: 'allow', when: { group: 'eng' } }] })] };
    const a = compile(doc).stages[0]?.authorizer;
    assert.ok(a, 'a');
    const c1 = ctx();
    assert.equal(a.authorize(c1, user()).trace, undefined);
    assert.equal(c1.extra.trace, undefined);
    const c2 = ctx({ extra: { trace: [{ check: 'authn', pass: true }] } });
    const d = a.authorize(c2, user(), true);
    assert.ok(d.trace && d.trace.length > 2, 'd.trace && d.trace.length > 2');
    assert.equal((c2.extra.trace as unknown[]).length, 1 + d.trace.length, 'appended after the authn trace');
    const debug = compile(doc, [['audit', { debug: true }]]).stages[0]?.authorizer;
    const c3 = ctx();
    assert.ok(debug?.authorize(c3, user()).trace, 'debug?.authorize(c3, user()).trace');
    assert.ok(Array.isArray(c3.extra.trace), 'Array.isArray(c3.extra.trace)');
  });
});

describe('denyError', () => {
  const bearer: Authenticator = {
    id: 'bearer',
    authenticate: () => ({ kind: 'none' }),
    wwwAuthenticate: 'Bearer realm="api"',
  };
  const protectedRoute = { public: false, authenticators: [bearer] } as unknown as CompiledRoute;

  test('no identity on a protected route: 401 with the route challenge', () => {
    const e = denyError(
      { allow: false, reasons: ['rule.default_deny'], rule: 'p' },
      { principal: undefined, route: protectedRoute },
    );
    assert.equal(e.code, 'GH_UNAUTHENTICATED');
    assert.equal(e.status, 401);
    assert.equal(e.headers?.['WWW-Authenticate'], 'Bearer realm="api"');
    assert.deepEqual(e.reasons, ['rule.default_deny']);
  });

  test('missing scopes only: 403 insufficient_scope naming the scopes', () => {
    const e = denyError(
      {
        allow: false,
        reasons: ['rule.default_deny', 'scope.missing:orders:write', 'scope.missing:orders:admin'],
        rule: 'p',
        insufficientScope: true,
      },
      { principal: user({ kind: 'client' }), route: protectedRoute },
    );
    assert.equal(e.code, 'GH_INSUFFICIENT_SCOPE');
    assert.equal(e.status, 403);
    assert.equal(
      e.headers?.['WWW-Authenticate'],
      'Bearer error="insufficient_scope", scope="orders:write orders:admin"',
    );
  });

  test('other denials: 403 access denied, no challenge; sessions never get insufficient_scope', () => {
    const e = denyError(
      { allow: false, reasons: ['rule.deny'], rule: 'p/r' },
      { principal: user(), route: protectedRoute },
    );
    assert.deepEqual([e.code, e.status, e.headers], ['GH_ACCESS_DENIED', 403, undefined]);
    assert.match(e.detail ?? '', /p\/r/);
    const s = denyError(
      { allow: false, reasons: ['rule.default_deny', 'scope.missing:x'], insufficientScope: true },
      { principal: user({ method: 'session' }), route: protectedRoute },
    );
    assert.equal(s.code, 'GH_ACCESS_DENIED');
  });

  test('a public route denied by a request rule answers 403, not 401', () => {
    const e = denyError(
      { allow: false, reasons: ['rule.default_deny'] },
      { principal: undefined, route: { public: true, authenticators: [] } as unknown as CompiledRoute },
    );
    assert.equal(e.status, 403);
  });
});
