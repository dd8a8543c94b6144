import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { raw } from '../helpers/http.js';

// End to end: the route chosen for the normalised path is the upstream that receives it, and
// that upstream receives exactly the normalised path. Requests are written as raw bytes so no
// client library cleans the target up first.

let admin: RecordingUpstream;
let pub: RecordingUpstream;
let iisAdmin: RecordingUpstream;
let iisRest: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  [admin, pub, iisAdmin, iisRest] = await Promise.all([
    startUpstream(),
    startUpstream(),
    startUpstream(),
    startUpstream(),
  ]);
  gh = await startGatehouse({
    upstreams: {
      admin: { url: admin.url },
      pub: { url: pub.url },
      iisAdmin: { url: iisAdmin.url },
      iisRest: { url: iisRest.url },
    },
    routes: [
      {
        name: 'iis-admin',
        match: { host: 'iis.example.com', path: '/Admin' },
        case_insensitive: true,
        upstream: 'iisAdmin',
        auth: 'none',
      },
      {
        name: 'iis-rest',
        match: { host: 'iis.example.com', path: '/' },
        case_insensitive: true,
        upstream: 'iisRest',
        auth: 'none',
      },
      { name: 'admin', match: { path: '/admin' }, upstream: 'admin', auth: 'none' },
      {
        name: 'login',
        match: { path: '/login', path_type: 'exact', methods: ['POST'] },
        upstream: 'admin',
        auth: 'none',
      },
      { name: 'public', match: { path: '/' }, upstream: 'pub', auth: 'none' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await Promise.all([admin, pub, iisAdmin, iisRest].map((u) => u?.close()));
});

interface Outcome {
  readonly status: number;
  readonly body: string;
  /** Which upstream got the request and the target it received, if any. */
  readonly hit: { readonly upstream: string; readonly url: string } | undefined;
}

async function request(target: string, host = 'app.example.com', method = 'GET'): Promise<Outcome> {
  const ups = { admin, pub, iisAdmin, iisRest };
  const before = Object.fromEntries(Object.entries(ups).map(([k, u]) => [k, u.received.length]));
  const reply = await raw(
    gh.port,
    Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1'),
  );
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
  const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
  let hit: Outcome['hit'];
  for (const [name, u] of Object.entries(ups)) {
    if (u.received.length > (before[name] ?? 0)) {
      assert.equal(hit, undefined, `${target} reached two upstreams`);
      hit = { upstream: name, url: u.received[u.received.length - 1]!.url };
    }
  }
  return { status, body, hit };
}

test('field-known bypasses of a prefix rule are refused or routed by the path the upstream serves', async () => {
  const refused = [
    '/public/..%2fadmin',
    '/public/..%2Fadmin',
    '/public/%2e%2e/admin',
    '/public/.%2e/admin',
    '/public/..\\admin',
    '/admin;x/',
    '/public;/../admin',
    '/a/%00',
    '/a/%zz',
    '/caf\u00e9',
    '/\u00c4\u00b1dmin',
    '/%2561dmin',
    '/public/%c0%ae%c0%ae/admin',
    '/../admin',
    '//admin',
    '//evil.com/x',
    '/admin#x',
    'http://evil.com/admin',
    '*',
  ];
  for (const t of refused) {
    const o = await request(t);
    assert.equal(o.status, 400, `${t} → ${o.status} ${o.body}`);
    assert.equal(o.hit, undefined, `${t} must never reach an upstream`);
  }
  const routed: Array<[target: string, upstream: string, url: string]> = [
    ['/admin/x', 'admin', '/admin/x'],
    ['/%61dmin/x', 'admin', '/admin/x'],
    ['/public/../admin/x', 'admin', '/admin/x'],
    ['/public/./../admin', 'admin', '/admin'],
    ['/admin//x?q=%2F', 'admin', '/admin/x?q=%2F'],
    ['http://app.example.com/public/../admin?a', 'admin', '/admin?a'],
    ['/administrator', 'pub', '/administrator'],
    ['/ADMIN', 'pub', '/ADMIN'],
    ['/admin./', 'pub', '/admin./'],
    ['/public/%3a', 'pub', '/public/%3A'],
  ];
  for (const [t, upstream, url] of routed) {
    const o = await request(t);
    assert.equal(o.status, 200, `${t} → ${o.status} ${o.body}`);
    assert.deepEqual(o.hit, { upstream, url }, t);
  }
});

test('IIS routes match any case and refuse paths IIS would strip or reinterpret', async () => {
  const host = 'iis.example.com';
  for (const [t, upstream, url] of [
    ['/ADMIN/x', 'iisAdmin', '/ADMIN/x'],
    ['/aDmIn', 'iisAdmin', '/aDmIn'],
    ['/other/ADMIN', 'iisRest', '/other/ADMIN'],
  ] as const) {
    const o = await request(t, host);
    assert.equal(o.status, 200, `${t} → ${o.status} ${o.body}`);
    assert.deepEqual(o.hit, { upstream, url }, t);
  }
  for (const t of ['/admin./x', '/admin%20/x', '/Admin.', '/admin::$DATA', '/ADMINI~1/x', '/x/web.config.']) {
    const o = await request(t, host);
    assert.equal(o.status, 400, `${t} → ${o.status} ${o.body}`);
    assert.match(o.body, /GH_PATH_AMBIGUOUS/);
    assert.equal(o.hit, undefined, `${t} must never reach an upstream`);
  }
});

test('method-restricted exact routes: other methods fall back to the catch-all', async () => {
  const post = await request('/login', 'app.example.com', 'POST');
  assert.deepEqual(post.hit, { upstream: 'admin', url: '/login' });
  const get = await request('/login/', 'app.example.com', 'GET');
  assert.deepEqual(get.hit, { upstream: 'pub', url: '/login/' });
});
