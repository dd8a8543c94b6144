import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import { normalizeTarget } from '../../src/http/normalize.js';
import { Router, type MatchResult, type RouteEntry } from '../../src/routing/router.js';
import { isGatehouseError } from '../../src/errors/index.js';

const HOST = 'app.example.com';
const RUNS = 3000;

const TOKENS = [
  '/',
  '//',
  '.',
  '..',
  '%',
  '%2f',
  '%2F',
  '%2e',
  '%2E',
  '%5c',
  '%5C',
  ';',
  '\\',
  '?',
  '#',
  ' ',
  ':',
  'a',
  'A',
  'b',
  'f',
  'F',
  '0',
  '2',
  '5',
  '9',
  'e',
  'E',
  'c',
  'C',
  '~1',
  '$DATA',
  '%20',
  '%25',
  '%3a',
  '%61',
  '%41',
  '%c0',
  '%af',
  '%e2%82%ac',
  '%00',
  'admin',
  'ADMIN',
  'Admin.',
  'public',
  'api',
  'v1',
  'login',
  'iis',
  'IIS',
];

const rawPath = fc
  .array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 14 })
  .map((t) => '/' + t.join(''));

type Spec = [name: string, path: string, exact: boolean, ci: boolean];

function router(specs: Spec[]): Router<string> {
  const entries: RouteEntry<string>[] = specs.map(([route, path, exact, ci], index) => ({
    route,
    hosts: undefined,
    path,
    pathType: exact ? 'exact' : 'prefix',
    methods: undefined,
    caseInsensitive: ci,
    index,
  }));
  return new Router(entries);
}

/** Mixed host: case-sensitive upstreams plus one IIS app under /iis. */
const mixed = router([
  ['root', '/', false, false],
  ['admin', '/admin', false, false],
  ['public', '/public', false, false],
  ['api', '/api/v1', false, false],
  ['login', '/login', true, false],
  ['iis', '/iis', false, true],
]);

/** A host served entirely by one IIS app. */
const iisOnly = router([
  ['root', '/', false, true],
  ['admin', '/admin', false, true],
  ['login', '/login', true, true],
  ['api', '/api/v1', false, true],
]);

function outcome(r: MatchResult<string>): string {
  return 'route' in r ? r.route : r.error;
}

function decodeSegments(path: string): string {
  return path
    .split('/')
    .map((s) => decodeURIComponent(s))
    .join('/');
}

/** How a typical upstream reads the forwarded path: decode each segment, then resolve dots. */
function upstreamView(path: string): string {
  return posix.normalize(decodeSegments(path));
}

/** How IIS reads it: decoded, case-folded, trailing dots/spaces and NTFS streams stripped. */
function iisView(path: string): string {
  const segs = decodeSegments(path)
    .toLowerCase()
    .split('/')
    .map((s) => s.replace(/:.*$/, '').replace(/[. ]+$/, ''));
  return posix.normalize(segs.join('/'));
}

function normalized(raw: string): string | undefined {
  try {
    return normalizeTarget(raw, HOST).path;
  } catch (e) {
    assert.ok(
      isGatehouseError(e, 'GH_PATH_AMBIGUOUS') || isGatehouseError(e, 'GH_BAD_REQUEST_TARGET'),
      `unexpected error for ${JSON.stringify(raw)}: ${String(e)}`,
    );
    return undefined;
  }
}

test('normalised paths are idempotent and read the same by a decoding upstream', () => {
  let accepted = 0;
  fc.assert(
    fc.property(rawPath, (raw) => {
      const path = normalized(raw);
      if (path === undefined) return;
      accepted++;
      assert.deepEqual(normalizeTarget(path, HOST), { path, query: '' }, 'idempotent');
      assert.match(path, /^\/[A-Za-z0-9\-._~!$&'()*+,=:@%/]*$/);
      for (const seg of decodeSegments(path).split('/').slice(1, -1)) {
        assert.ok(seg !== '' && seg !== '.' && seg !== '..', `segment ${JSON.stringify(seg)} in ${path}`);
      }
      assert.equal(upstreamView(path), decodeSegments(path), `${raw} → ${path}`);
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted > RUNS / 10, `only ${accepted} of ${RUNS} generated paths were accepted`);
});

test('the route chosen for the normalised path is the one for the path the upstream serves', () => {
  let routed = 0;
  fc.assert(
    fc.property(rawPath, fc.constantFrom('GET', 'POST'), (raw, method) => {
      const path = normalized(raw);
      if (path === undefined) return;
      const ours = outcome(mixed.match(HOST, path, method));
      if (ours !== 'GH_PATH_AMBIGUOUS') routed++;
      assert.equal(outcome(mixed.match(HOST, upstreamView(path), method)), ours, `${raw} → ${path}`);
    }),
    { numRuns: RUNS },
  );
  assert.ok(routed > RUNS / 10, `only ${routed} of ${RUNS} generated paths were routed`);
});

test('on an IIS host, a routed path reaches IIS as a path of the same route', () => {
  let routed = 0;
  fc.assert(
    fc.property(rawPath, (raw) => {
      const path = normalized(raw);
      if (path === undefined) return;
      const ours = outcome(iisOnly.match(HOST, path, 'GET'));
      if (ours === 'GH_PATH_AMBIGUOUS') return;
      routed++;
      assert.equal(
        outcome(iisOnly.match(HOST, iisView(path), 'GET')),
        ours,
        `${raw} → ${path} → IIS ${iisView(path)}`,
      );
    }),
    { numRuns: RUNS },
  );
  assert.ok(routed > RUNS / 20, `only ${routed} of ${RUNS} generated paths were routed`);
});

test('arbitrary targets either fail with a Gatehouse code or normalise idempotently', () => {
  const target = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => '/' + s),
    fc.string({ unit: 'binary-ascii', maxLength: 40 }),
    fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => 'http://' + HOST + s),
  );
  fc.assert(
    fc.property(target, (t) => {
      let r: { path: string; query: string };
      try {
        r = normalizeTarget(t, HOST);
      } catch (e) {
        assert.ok(
          isGatehouseError(e, 'GH_PATH_AMBIGUOUS') || isGatehouseError(e, 'GH_BAD_REQUEST_TARGET'),
          String(e),
        );
        return;
      }
      assert.equal(normalizeTarget(r.path, HOST).path, r.path);
      assert.match(r.path, /^\/[\x21-\x7e]*$/);
      assert.equal(upstreamView(r.path), decodeSegments(r.path));
    }),
    { numRuns: RUNS },
  );
});
