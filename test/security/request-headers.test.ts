import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startUpstream, type RecordingUpstream, type Received } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { normalizeHeaderName } from '../../src/identity/strip.js';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { createLogger } from '../../src/log/logger.js';
import type { AuditEvent } from '../../src/audit/event.js';

// Headers an upstream acts on (IIS URL Rewrite, ASP.NET, frameworks, TLS terminators) never pass
// from an untrusted client, on every route, in any spelling; a route may let named ones through
// from trusted proxies only. Observed at an upstream that records exactly what it received.

let up: RecordingUpstream;
let gh: TestGateway;

/** Sends a GET from a chosen loopback address; resolves with the status. */
function get(
  port: number,
  path: string,
  headers: Array<[string, string]>,
  localAddress = '127.0.0.1',
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (const [k, v] of headers) req.appendHeader(k, v);
    req.end();
  });
}

const seen = (r: Received): string[] => {
  const out: string[] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) out.push(normalizeHeaderName(r.rawHeaders[i] as string));
  return out;
};
const last = (): Received => up.received[up.received.length - 1] as Received;
const lastAudit = (): AuditEvent => gh.audit[gh.audit.length - 1] as AuditEvent;

const OVERRIDES: Array<[string, string]> = [
  ['X-Original-URL', '/admin'],
  ['x_original_url', '/admin'],
  ['X-REWRITE-URL', '/admin'],
  ['X_Rewrite_Url', '/admin'],
  ['X-HTTP-Method-Override', 'DELETE'],
  ['x_http_method_override', 'DELETE'],
  ['X-HTTP-Method', 'PUT'],
  ['X-Method-Override', 'DELETE'],
  ['X-Original-URI', '/admin'],
  ['X-Forwarded-Uri', '/admin'],
];
const FORWARDING: Array<[string, string]> = [
  ['X-Forwarded-Prefix', '/evil'],
  ['X-Forwarded-Port', '443'],
  ['X-Forwarded-Server', 'evil'],
  ['X-Real-IP', '10.0.0.1'],
  ['X_Real_Ip', '10.0.0.1'],
  ['True-Client-IP', '10.0.0.1'],
  ['X-Client-IP', '10.0.0.1'],
  ['X-Cluster-Client-IP', '10.0.0.1'],
  ['X-Forwarded-Ssl', 'on'],
  ['X_Forwarded_For', '10.0.0.1'],
  ['x_forwarded_proto', 'https'],
  ['X_Forwarded_Host', 'admin.internal'],
];
const CLIENT_CERT: Array<[string, string]> = [
  ['Client-Cert', ':MIIB:'],
  ['Client-Cert-Chain', ':MIIB:'],
  ['client_cert', ':MIIB:'],
  ['SSL-Client-Verify', 'SUCCESS'],
  ['SSL_CLIENT_S_DN', 'CN=admin'],
  ['X-SSL-Client-Cert', 'forged'],
  ['X-Client-Cert', 'forged'],
  ['X-ARR-ClientCert', 'forged'],
  ['x_arr_clientcert', 'forged'],
  ['X-Forwarded-Client-Cert', 'Hash=abc'],
];

before(async () => {
  up = await startUpstream();
  gh = await startGatehouse({
    server: {
      listeners: [{ address: '127.0.0.1', port: 0 }],
      trusted_proxies: ['127.0.0.2/32'],
    },
    upstreams: { app: { url: up.url } },
    routes: [
      {
        name: 'behind-proxy',
        match: { path: '/api' },
        upstream: 'app',
        auth: 'none',
        trusted_headers: ['X-Forwarded-Prefix', 'Client-Cert', 'X-Original-URL'],
      },
      { name: 'public', match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await up?.close();
});

for (const [label, list, reason] of [
  ['path and method overrides', OVERRIDES, 'header.override.stripped'],
  ['forwarding headers Gatehouse does not set', FORWARDING, 'header.forwarding.stripped'],
  ['TLS-terminator client-certificate headers', CLIENT_CERT, 'header.client_cert.stripped'],
] as const) {
  test(`${label} never reach the upstream from an untrusted client, in any spelling, and are audited`, async () => {
    for (const h of list) {
      const before = up.received.length;
      assert.equal(await get(gh.port, '/public', [h]), 200, h[0]);
      assert.equal(up.received.length, before + 1);
      const r = last();
      const rebuilt = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
      if (rebuilt.includes(normalizeHeaderName(h[0]))) {
        // Gatehouse sends its own X-Forwarded-*; the client's underscore spelling is gone.
        assert.ok(!r.rawHeaders.includes(h[0]), `${h[0]} reached the upstream`);
        assert.ok(!r.rawHeaders.includes(h[1]), `${h[1]} reached the upstream`);
      } else assert.ok(!seen(r).includes(normalizeHeaderName(h[0])), `${h[0]} reached the upstream`);
      const ev = lastAudit();
      assert.ok(ev.reasons.includes(reason), `${h[0]}: ${ev.reasons.join(',')}`);
      assert.deepEqual(ev.stripped_headers, [h[0]]);
    }
  });
}

test('a GET with a method override stays a GET for the same path, upstream sees neither override', async () => {
  await get(gh.port, '/public/report', [
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-Original-URL', '/admin/delete-all'],
  ]);
  const r = last();
  assert.equal(r.method, 'GET');
  assert.equal(r.url, '/public/report');
  assert.equal(r.headers['x-http-method-override'], undefined);
  assert.equal(r.headers['x-original-url'], undefined);
});

test('underscore spellings of X-Forwarded-For never add a hop; the real chain is the peer only', async () => {
  await get(gh.port, '/public', [
    ['X_Forwarded_For', '10.9.9.9'],
    ['X-Forwarded-For', '10.8.8.8'],
  ]);
  const r = last();
  assert.equal(r.headers['x-forwarded-for'], '127.0.0.1', 'untrusted client values are replaced');
  assert.ok(
    !JSON.stringify(r.rawHeaders).includes('10.9.9.9'),
    "!JSON.stringify(r.rawHeaders).includes('10.9.9.9')",
  );
});

test('trusted_headers pass from a trusted proxy only, and only on the route that names them', async () => {
  const hdrs: Array<[string, string]> = [
    ['X-Forwarded-Prefix', '/app1'],
    ['Client-Cert', ':MIIBproxy:'],
    ['X-Original-URL', '/api/v2'],
    ['X-Real-IP', '203.0.113.7'],
  ];
  // From the trusted proxy (127.0.0.2) on the route that names them: kept.
  await get(gh.port, '/api/x', hdrs, '127.0.0.2');
  let r = last();
  assert.equal(r.headers['x-forwarded-prefix'], '/app1');
  assert.equal(r.headers['client-cert'], ':MIIBproxy:');
  assert.equal(r.headers['x-original-url'], '/api/v2');
  assert.equal(r.headers['x-real-ip'], undefined, 'not named: stripped even from the trusted proxy');
  assert.equal(
    lastAudit().stripped_headers,
    undefined,
    "a trusted proxy's own forwarding headers are removed without an audit entry",
  );
  // From an untrusted client on the same route: stripped.
  await get(gh.port, '/api/x', hdrs, '127.0.0.1');
  r = last();
  for (const n of ['x-forwarded-prefix', 'client-cert', 'x-original-url', 'x-real-ip'])
    assert.equal(r.headers[n], undefined, n);
  assert.deepEqual(
    lastAudit().stripped_headers,
    hdrs.map(([n]) => n),
  );
  // From the trusted proxy on a route that does not name them: stripped.
  await get(gh.port, '/public', hdrs, '127.0.0.2');
  r = last();
  for (const n of ['x-forwarded-prefix', 'client-cert', 'x-original-url'])
    assert.equal(r.headers[n], undefined, n);
});

test('trusted_headers is checked at load: rebuilt, injected and unguarded names are errors with their key path', () => {
  const cfg = validateConfig({
    server: { trusted_proxies: ['10.0.0.0/8'] },
    upstreams: { app: { url: 'http://127.0.0.1:1' } },
    routes: [
      {
        match: { path: '/' },
        upstream: 'app',
        auth: 'none',
        identity: { headers: { 'X-Forwarded-User': '{sub}' } },
        trusted_headers: ['X-Forwarded-For', 'X_Forwarded_User', 'X-Custom-Thing', 'X-Forwarded-Prefix'],
      },
    ],
  });
  const { logger } = createLogger({ level: 'silent' });
  let err: unknown;
  try {
    compileState(cfg, { logger, baseDir: process.cwd(), services: new Map(), dryRun: true });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, 'err instanceof ConfigError');
  const byPath = new Map(err.problems.map((p) => [p.path, p.message]));
  assert.match(byPath.get('routes[0].trusted_headers[0]') ?? '', /rebuilt by Gatehouse/);
  assert.match(byPath.get('routes[0].trusted_headers[1]') ?? '', /set by Gatehouse on this route/);
  assert.match(byPath.get('routes[0].trusted_headers[2]') ?? '', /not a header Gatehouse strips/);
  assert.equal(byPath.get('routes[0].trusted_headers[3]'), undefined);
});
