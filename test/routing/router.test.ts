import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Router,
  routeHostProblem,
  routePathProblem,
  type MatchResult,
  type RouteEntry,
} from '../../src/routing/router.js';

interface Spec {
  name: string;
  host?: string[];
  path?: string;
  exact?: boolean;
  methods?: string[];
  ci?: boolean;
}

function build(specs: Spec[]): Router<string> {
  const entries: RouteEntry<string>[] = specs.map((s, index) => ({
    route: s.name,
    hosts: s.host,
    path: s.path ?? '/',
    pathType: s.exact ? 'exact' : 'prefix',
    methods: s.methods ? new Set(s.methods) : undefined,
    caseInsensitive: s.ci ?? false,
    index,
  }));
  return new Router(entries);
}

function name(r: MatchResult<string>): string {
  return 'route' in r ? r.route : r.error;
}

function check(router: Router<string>, cases: Array<[string, string, string, string]>): void {
  for (const [host, path, method, want] of cases) {
    assert.equal(name(router.match(host, path, method)), want, `${method} ${host}${path}`);
  }
}

test('prefix routes match on segment boundaries; "/" matches everything', () => {
  const r = build([
    { name: 'app', path: '/app' },
    { name: 'root', path: '/' },
  ]);
  check(r, [
    ['h', '/app', 'GET', 'app'],
    ['h', '/app/', 'GET', 'app'],
    ['h', '/app/x/y', 'GET', 'app'],
    ['h', '/apple', 'GET', 'root'],
    ['h', '/ap', 'GET', 'root'],
    ['h', '/', 'GET', 'root'],
    ['h', '/x/app', 'GET', 'root'],
  ]);
  const noRoot = build([{ name: 'app', path: '/app/' }]);
  check(noRoot, [
    ['h', '/app', 'GET', 'app'],
    ['h', '/app/x', 'GET', 'app'],
    ['h', '/apple', 'GET', 'GH_ROUTE_NOT_FOUND'],
    ['h', '/', 'GET', 'GH_ROUTE_NOT_FOUND'],
  ]);
});

test('longest path wins, exact beats prefix of equal length, config order breaks ties', () => {
  const r = build([
    { name: 'root', path: '/' },
    { name: 'api', path: '/api' },
    { name: 'v1', path: '/api/v1' },
    { name: 'v1-exact', path: '/api/v1', exact: true },
    { name: 'v1-dup', path: '/api/v1' },
    { name: 'login', path: '/login', exact: true },
    { name: 'rootExact', path: '/', exact: true },
  ]);
  check(r, [
    ['h', '/api/v1', 'GET', 'v1-exact'],
    ['h', '/api/v1/', 'GET', 'v1-exact'],
    ['h', '/api/v1/x', 'GET', 'v1'],
    ['h', '/api/v2', 'GET', 'api'],
    ['h', '/login', 'GET', 'login'],
    ['h', '/login/', 'GET', 'login'],
    ['h', '/login/x', 'GET', 'root'],
    ['h', '/loginx', 'GET', 'root'],
    ['h', '/', 'GET', 'rootExact'],
    ['h', '/other', 'GET', 'root'],
  ]);
});

test('hosts: exact > longest wildcard > any host; wildcards never match the apex', () => {
  const r = build([
    { name: 'any', path: '/' },
    { name: 'wild', host: ['*.example.com'], path: '/' },
    { name: 'wild-deep', host: ['*.eu.example.com'], path: '/' },
    { name: 'app', host: ['app.example.com', 'APP2.example.com.'], path: '/' },
    { name: 'apex', host: ['example.com'], path: '/x' },
  ]);
  check(r, [
    ['app.example.com', '/', 'GET', 'app'],
    ['app.example.com.', '/', 'GET', 'app'],
    ['app2.example.com', '/', 'GET', 'app'],
    ['foo.example.com', '/', 'GET', 'wild'],
    ['a.b.c.example.com', '/', 'GET', 'wild'],
    ['x.eu.example.com', '/', 'GET', 'wild-deep'],
    ['eu.example.com', '/', 'GET', 'wild'],
    ['example.com', '/x', 'GET', 'apex'],
    ['example.com', '/y', 'GET', 'any'],
    ['evilexample.com', '/', 'GET', 'any'],
    ['other.org', '/', 'GET', 'any'],
  ]);
});

test('a host tier without a path match falls back to the next tier; no route → 404', () => {
  const r = build([
    { name: 'app-admin', host: ['app.example.com'], path: '/admin' },
    { name: 'wild-api', host: ['*.example.com'], path: '/api' },
    { name: 'any-public', path: '/public' },
  ]);
  check(r, [
    ['app.example.com', '/admin/x', 'GET', 'app-admin'],
    ['app.example.com', '/api/x', 'GET', 'wild-api'],
    ['app.example.com', '/public', 'GET', 'any-public'],
    ['app.example.com', '/other', 'GET', 'GH_ROUTE_NOT_FOUND'],
    ['other.org', '/admin', 'GET', 'GH_ROUTE_NOT_FOUND'],
  ]);
  const none = build([]);
  check(none, [['h', '/', 'GET', 'GH_ROUTE_NOT_FOUND']]);
});

test('methods: fall back to a less specific route allowing the method, else 405 with Allow', () => {
  const r = build([
    { name: 'api-read', path: '/api', methods: ['GET', 'HEAD'] },
    { name: 'root', path: '/' },
    { name: 'w-read', host: ['w.example.com'], path: '/x', methods: ['GET'] },
    { name: 'w-write', host: ['w.example.com'], path: '/x/y', methods: ['POST', 'PUT'] },
  ]);
  check(r, [
    ['h', '/api/x', 'GET', 'api-read'],
    ['h', '/api/x', 'DELETE', 'root'],
    ['w.example.com', '/x/y', 'POST', 'w-write'],
    ['w.example.com', '/x/y', 'GET', 'w-read'],
    ['w.example.com', '/x/y', 'DELETE', 'GH_METHOD_NOT_ALLOWED'],
    ['w.example.com', '/x', 'POST', 'GH_METHOD_NOT_ALLOWED'],
    ['w.example.com', '/z', 'GET', 'root'],
  ]);
  const res = r.match('w.example.com', '/x/y', 'DELETE');
  assert.ok(
    'error' in res && res.error === 'GH_METHOD_NOT_ALLOWED',
    "'error' in res && res.error === 'GH_METHOD_NOT_ALLOWED'",
  );
  assert.deepEqual(res.allow, ['GET', 'POST', 'PUT']);
});

test('a host tier that matches the path but not the method answers 405 and does not fall through', () => {
  const r = build([
    { name: 'app-get', host: ['app.example.com'], path: '/', methods: ['GET'] },
    { name: 'any', path: '/' },
  ]);
  check(r, [
    ['app.example.com', '/x', 'GET', 'app-get'],
    ['app.example.com', '/x', 'POST', 'GH_METHOD_NOT_ALLOWED'],
    ['other.org', '/x', 'POST', 'any'],
  ]);
});

test('case-insensitive routes match any case; case-sensitive ones only the exact case', () => {
  const r = build([
    { name: 'root', path: '/' },
    { name: 'iis', path: '/IIS/App', ci: true },
    { name: 'cs', path: '/Docs' },
    { name: 'iis-login', path: '/iis/app/login', exact: true, ci: true },
    { name: 'iis-deep-cs', path: '/iis/app/Special' },
  ]);
  check(r, [
    ['h', '/iis/app', 'GET', 'iis'],
    ['h', '/IIS/APP/x', 'GET', 'iis'],
    ['h', '/iIs/aPp/LOGIN', 'GET', 'iis-login'],
    ['h', '/iis/app/Special/x', 'GET', 'iis-deep-cs'],
    ['h', '/iis/app/special/x', 'GET', 'iis'],
    ['h', '/Docs/a', 'GET', 'cs'],
    ['h', '/docs/a', 'GET', 'root'],
    ['h', '/DOCS', 'GET', 'root'],
  ]);
});

test('a host with case-insensitive routes refuses paths IIS would reinterpret', () => {
  const r = build([
    { name: 'root', path: '/' },
    { name: 'admin', path: '/admin', ci: true },
    { name: 'other', host: ['other.example.com'], path: '/' },
  ]);
  for (const p of ['/admin./', '/ADMIN%20/x', '/admin::$DATA', '/ADMINI~1/', '/x/y.']) {
    assert.equal(name(r.match('h', p, 'GET')), 'GH_PATH_AMBIGUOUS', p);
  }
  assert.equal(name(r.match('h', '/Admin/x', 'GET')), 'admin');
  assert.equal(name(r.match('other.example.com', '/admin./', 'GET')), 'other');
});

test('config order decides between equally specific case-sensitive and insensitive routes', () => {
  const r = build([
    { name: 'ci-first', path: '/x', ci: true },
    { name: 'cs-second', path: '/x' },
    { name: 'cs-y', path: '/y' },
    { name: 'ci-y', path: '/y', ci: true },
  ]);
  check(r, [
    ['h', '/x', 'GET', 'ci-first'],
    ['h', '/y/z', 'GET', 'cs-y'],
    ['h', '/Y/z', 'GET', 'ci-y'],
  ]);
});

test('route paths must be normalised', () => {
  assert.equal(routePathProblem('/a/b'), undefined);
  assert.equal(routePathProblem('/a/b/'), undefined);
  assert.match(routePathProblem('a') ?? '', /starting with/);
  assert.match(routePathProblem('/a/../b') ?? '', /normalised/);
  assert.match(routePathProblem('/%61') ?? '', /normalised/);
  assert.match(routePathProblem('/a;b') ?? '', /not a valid path/);
  assert.match(routePathProblem('/a?b') ?? '', /"\?"/);
  assert.equal(routePathProblem('/caf%C3%A9'), undefined);
  assert.match(routePathProblem('/caf%C3%A9', true) ?? '', /ASCII/);
  assert.throws(() => build([{ name: 'bad', path: '/a//b' }]), /route 0 path/);
  assert.throws(() => build([{ name: 'bad', host: ['a.*.com'] }]), /invalid route host/);
});

test('route hosts must be names, wildcards or "*" without a port', () => {
  for (const h of [
    '*',
    'app.example.com',
    'App.Example.COM.',
    '*.example.com',
    'localhost',
    '127.0.0.1',
    '[::1]',
  ]) {
    assert.equal(routeHostProblem(h), undefined, h);
  }
  for (const h of [
    'app.example.com:8080',
    'a.*.com',
    '**.example.com',
    '*example.com',
    'a b',
    '',
    'a..b',
    '-a.com',
  ]) {
    assert.ok(routeHostProblem(h), h);
  }
});

function bigRouter(n: number): Router<string> {
  const entries: RouteEntry<string>[] = [];
  for (let i = 0; i < n; i++) {
    entries.push({
      route: `r${i}`,
      hosts: i % 3 === 0 ? [`h${i % 50}.example.com`] : i % 3 === 1 ? ['*.example.com'] : undefined,
      path: `/svc${i}/api`,
      pathType: i % 4 === 0 ? 'exact' : 'prefix',
      methods: i % 5 === 0 ? new Set(['GET']) : undefined,
      caseInsensitive: i % 7 === 0,
      index: i,
    });
  }
  entries.push({
    route: 'fallback',
    hosts: undefined,
    path: '/',
    pathType: 'prefix',
    methods: undefined,
    caseInsensitive: false,
    index: n,
  });
  return new Router(entries);
}

test('10,000 routes: every route is found by its own host, path and method', () => {
  const n = 10_000;
  const r = bigRouter(n);
  for (let i = 0; i < n; i++) {
    const host = i % 3 === 0 ? `h${i % 50}.example.com` : i % 3 === 1 ? 'x.example.com' : 'any.org';
    const path = i % 4 === 0 ? `/svc${i}/api` : `/svc${i}/api/deeper`;
    const want = `r${i}`;
    const p = i % 7 === 0 ? path.toUpperCase() : path;
    assert.equal(name(r.match(host, p, 'GET')), want, `${host}${p}`);
    if (i % 5 === 0) {
      const m = name(r.match(host, p, 'POST'));
      assert.ok(m === 'fallback' || m === 'GH_METHOD_NOT_ALLOWED', `${host}${p} POST → ${m}`);
    }
  }
  assert.equal(name(r.match('any.org', '/svc1/api', 'GET')), 'fallback');
  assert.equal(name(r.match('any.org', '/svc2/apix', 'GET')), 'fallback');
});

function timer(r: Router<string>, n: number): () => number {
  const queries: Array<[string, string]> = [];
  for (let i = 0; i < 64; i++) queries.push([`h${i % 50}.example.com`, `/svc${(i * 37) % n}/api/x/y`]);
  const run = (count: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const q = queries[i & 63] as [string, string];
      r.match(q[0], q[1], 'GET');
    }
    return Number(process.hrtime.bigint() - t0) / count;
  };
  run(20_000);
  return () => run(50_000);
}

test('lookup cost does not grow with the number of routes (10 vs 10,000)', () => {
  const small = timer(bigRouter(10), 10);
  const large = timer(bigRouter(10_000), 10_000);
  let bestSmall = Infinity;
  let bestLarge = Infinity;
  for (let k = 0; k < 5; k++) {
    bestSmall = Math.min(bestSmall, small());
    bestLarge = Math.min(bestLarge, large());
  }
  // A linear scan would cost tens of microseconds per lookup at 10,000 routes.
  assert.ok(
    bestLarge < bestSmall * 5 + 300,
    `10 routes: ${bestSmall.toFixed(0)} ns, 10,000 routes: ${bestLarge.toFixed(0)} ns per match`,
  );
});
