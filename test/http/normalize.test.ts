import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIisSegments, iisProblem, MAX_PATH_LENGTH, normalizeTarget } from '../../src/http/normalize.js';
import { isGatehouseError, type ErrorCode } from '../../src/errors/index.js';

const HOST = 'app.example.com';

function expectCode(target: string, code: ErrorCode, host = HOST): void {
  assert.throws(
    () => normalizeTarget(target, host),
    (e: unknown) => isGatehouseError(e, code),
    `${JSON.stringify(target)} must be refused with ${code}`,
  );
}

test('clean origin-form paths pass through unchanged, query split off raw', () => {
  const cases: Array<[string, string, string]> = [
    ['/', '/', ''],
    ['/a/b', '/a/b', ''],
    ['/a/b/', '/a/b/', ''],
    ['/a/b?x=1&y=%2F', '/a/b', '?x=1&y=%2F'],
    ['/a?', '/a', '?'],
    ['/a?b?c', '/a', '?b?c'],
    ['/a/..b/c...', '/a/..b/c...', ''],
    ['/A-Z_a.z~0', '/A-Z_a.z~0', ''],
    ['/ADMIN', '/ADMIN', ''],
  ];
  for (const [t, path, query] of cases) assert.deepEqual(normalizeTarget(t, HOST), { path, query }, t);
});

test('the fast path returns the very input string for clean targets', () => {
  const t = '/api/v1/users/42';
  assert.equal(normalizeTarget(t, HOST).path, t);
});

test('percent-escapes: unreserved decoded, others upper-cased, unsafe raw chars encoded', () => {
  const cases: Array<[string, string]> = [
    ['/%61dmin', '/admin'],
    ['/%41%44MIN', '/ADMIN'],
    ['/a/%7e%2D%5F%2e%2Ex', '/a/~-_..x'],
    ['/a/%3a%40', '/a/%3A%40'],
    ['/a/b%20c', '/a/b%20c'],
    ['/a/%e2%82%ac', '/a/%E2%82%AC'],
    ['/a/{x}|^`', '/a/%7Bx%7D%7C%5E%60'],
    ['/a/"<>[]', '/a/%22%3C%3E%5B%5D'],
    ["/a/!$&'()*+,=:@", "/a/!$&'()*+,=:@"],
    ['/a/100%25', '/a/100%25'],
    ['/a/100%25off', '/a/100%25off'],
  ];
  for (const [t, path] of cases) assert.equal(normalizeTarget(t, HOST).path, path, t);
});

test('dot-segments are resolved and slashes collapsed (RFC 3986 §5.2.4)', () => {
  const cases: Array<[string, string]> = [
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/a/b/../', '/a/'],
    ['/.', '/'],
    ['/./', '/'],
    ['/a/..', '/'],
    ['/a//b', '/a/b'],
    ['/a///b//', '/a/b/'],
    ['/a/.//b', '/a/b'],
    ['/public/../admin', '/admin'],
    ['/a/b/../../c?q', '/c'],
  ];
  for (const [t, path] of cases) assert.equal(normalizeTarget(t, HOST).path, path, t);
});

test('known bypasses and ambiguous paths are refused with GH_PATH_AMBIGUOUS', () => {
  const cases = [
    '/public/..%2fadmin',
    '/public/..%2Fadmin',
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin',
    '/public/.%2e/admin',
    '/public/%2e./admin',
    '/public/%2e/admin',
    '/a/%5cadmin',
    '/a/%5Cadmin',
    '/admin\\x',
    '/a\\..\\admin',
    '/admin;x/',
    '/admin;jsessionid=1',
    '/a/%3bx',
    '/a/%00',
    '/a/%1f',
    '/a/%7f',
    '/a/\u0000',
    '/a/\t',
    '/a/\u007f',
    '/a b',
    '/caf\u00e9',
    '/\u2215admin',
    '/a/%zz',
    '/a/%4',
    '/a/%',
    '/a/%g1',
    '/a/%4?x',
    '/a/%3F',
    '/a/%23',
    '/a/%C0%AF',
    '/a/%c0%ae%c0%ae/x',
    '/a/%E2%82',
    '/a/%E2%82/x',
    '/a/%80',
    '/a/%ED%A0%80',
    '/a/%2561dmin',
    '/a/%25%36%31dmin',
    '/..',
    '/a/../..',
    '/../admin',
    '/' + 'a'.repeat(MAX_PATH_LENGTH),
  ];
  for (const t of cases) expectCode(t, 'GH_PATH_AMBIGUOUS');
});

test('paths up to the length limit are accepted', () => {
  const t = '/' + 'a'.repeat(MAX_PATH_LENGTH - 1);
  assert.equal(normalizeTarget(t, HOST).path, t);
});

test('malformed targets are refused with GH_BAD_REQUEST_TARGET', () => {
  const cases = [
    '*',
    'app.example.com:443',
    'admin',
    '',
    '//admin',
    '//evil.com/x',
    '///x',
    '/a#frag',
    '/a?x#frag',
    '/a?x y',
    '/a?x\u0001',
    '/a?caf\u00e9',
    'http://evil.com/x',
    'http://app.example.com.evil.com/x',
    'https://app.example.com:8443/x',
    'http://user@app.example.com/x',
    'http://app.example.com//evil.com/x',
    'http://app.example.com#x',
    'ftp://app.example.com/x',
    'http:/app.example.com/x',
  ];
  for (const t of cases) expectCode(t, 'GH_BAD_REQUEST_TARGET');
});

test('absolute-form is accepted only for the Host header host (case, default port, trailing dot)', () => {
  const ok: Array<[string, string, string, string]> = [
    ['http://app.example.com/a?b', HOST, '/a', '?b'],
    ['HTTP://APP.Example.COM/a', HOST, '/a', ''],
    ['http://app.example.com:80/a', HOST, '/a', ''],
    ['http://app.example.com/a', 'app.example.com:80', '/a', ''],
    ['https://app.example.com/a', 'app.example.com:443', '/a', ''],
    ['https://app.example.com:443/a', HOST, '/a', ''],
    ['http://app.example.com:8080/a', 'App.Example.com:8080', '/a', ''],
    ['http://app.example.com./a', HOST, '/a', ''],
    ['http://app.example.com', HOST, '/', ''],
    ['http://app.example.com?q', HOST, '/', '?q'],
    ['http://[::1]:8080/%61', '[::1]:8080', '/a', ''],
    ['http://app.example.com/public/../admin', HOST, '/admin', ''],
  ];
  for (const [t, host, path, query] of ok) assert.deepEqual(normalizeTarget(t, host), { path, query }, t);
  expectCode('http://app.example.com/a', 'GH_BAD_REQUEST_TARGET', 'app.example.com:8080');
  expectCode('https://app.example.com/a', 'GH_BAD_REQUEST_TARGET', 'app.example.com:80');
  expectCode('http://app.example.com/a', 'GH_BAD_REQUEST_TARGET', '');
  expectCode('http://app.example.com/a', 'GH_BAD_REQUEST_TARGET', 'app.example.com:x');
  expectCode('http://app.example.com/..%2fadmin', 'GH_PATH_AMBIGUOUS');
});

test('normalisation is idempotent on every accepted example', () => {
  const samples = [
    '/a/./b/../c',
    '/%61dmin',
    '/a/%3a%40',
    '/a/{x}',
    '/a//b/',
    '/a/100%25',
    '/a/%e2%82%ac/',
    '/a/b%20c',
    '/x/..',
  ];
  for (const t of samples) {
    const once = normalizeTarget(t, HOST).path;
    assert.equal(normalizeTarget(once, HOST).path, once, t);
  }
});

test('IIS segment checks refuse what IIS would strip or reinterpret', () => {
  const bad = [
    '/admin.',
    '/admin./',
    '/admin./x',
    '/admin../x',
    '/admin%20/',
    '/admin%20',
    '/admin. /x',
    '/admin::$DATA',
    '/admin/web.config::$DATA',
    '/admin%3A%3A$DATA',
    '/ADMINI~1/x',
    '/admin/PROGRA~2',
    '/adm%C4%B1n',
    '/adm%c4%b1n/x',
    '/%C5%BFecret',
    '/%E2%84%AAeys',
    '/%EF%BD%81dmin',
    '/admin%EF%BC%8Fx',
  ];
  for (const p of bad) {
    assert.ok(iisProblem(p), p);
    assert.throws(
      () => checkIisSegments(p),
      (e: unknown) => isGatehouseError(e, 'GH_PATH_AMBIGUOUS'),
      p,
    );
  }
  for (const p of [
    '/',
    '/admin',
    '/admin/',
    '/a.b/c.txt',
    '/a~b/x',
    '/a/b%20c',
    '/~/x',
    '/.well-known/x',
    '/caf%C3%A9',
  ]) {
    assert.equal(iisProblem(p), undefined, p);
    checkIisSegments(p);
  }
});

test('clean paths take the fast path: well under a microsecond each', () => {
  const paths = ['/api/v1/users/42', '/static/app.js', '/a/b/c/d/e/f', '/'];
  const run = (n: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) normalizeTarget(paths[i & 3] as string, HOST);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  run(20_000);
  let best = Infinity;
  for (let k = 0; k < 5; k++) best = Math.min(best, run(50_000));
  assert.ok(best < 1000, `normalizeTarget took ${best.toFixed(0)} ns per clean path`);
});
