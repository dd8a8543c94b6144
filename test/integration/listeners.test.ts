import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { createPki, type TestPki } from '../helpers/certs.js';
import { send, raw } from '../helpers/http.js';

let up: RecordingUpstream;
let pki: TestPki;
let gh: TestGateway;
let caPem: string;

before(async () => {
  up = await startUpstream();
  pki = createPki();
  const ca = pki.createCa('listener-ca');
  caPem = ca.cert;
  const leaf = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], usage: 'server' });
  gh = await startGatehouse({
    server: {
      listeners: [
        { name: 'plain', address: '127.0.0.1', port: 0 },
        {
          name: 'tls',
          address: '127.0.0.1',
          port: 0,
          tls: { cert: leaf.certPath, key: leaf.keyPath, min_version: 'TLSv1.2' },
        },
      ],
      max_header_size: '4kb',
      timeouts: { headers: '400ms', request: '1s' },
    },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
});

after(async () => {
  await gh.close();
  await up.close();
  pki.cleanup();
});

function httpsGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        path,
        ca: caPem,
        servername: 'localhost',
        // The Host must name the host the TLS connection was opened for (SNI), or 421.
        headers: { host: `localhost:${u.port}` },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('several listeners: plain HTTP and HTTPS serve the same routes; the upstream sees the scheme', async () => {
  const [plain, secure] = gh.gateway.listeners;
  assert.equal((await send(plain!.url, '/x')).status, 200);
  assert.equal(up.received.at(-1)?.headers['x-forwarded-proto'], 'http');
  const r = await httpsGet(secure!.url, '/y');
  assert.equal(r.status, 200);
  assert.equal(up.received.at(-1)?.headers['x-forwarded-proto'], 'https');
});

test('HTTPS listeners refuse TLS 1.1 and below', async () => {
  const secure = gh.gateway.listeners[1]!;
  const err = await new Promise<Error | undefined>((resolve) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port: secure.port,
      ca: caPem,
      servername: 'localhost',
      maxVersion: 'TLSv1.1',
      minVersion: 'TLSv1',
    });
    s.on('secureConnect', () => (s.destroy(), resolve(undefined)));
    s.on('error', (e) => resolve(e));
  });
  assert.ok(err, 'a TLS 1.1 handshake must fail');
});

test('request heads over max_header_size get 431 GH_HEADERS_TOO_LARGE and never reach the upstream', async () => {
  const n = up.received.length;
  const out = await raw(gh.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 431/);
  assert.match(out, /GH_HEADERS_TOO_LARGE/);
  assert.match(out, /X-Request-Id: [0-9a-f-]{36}/);
  assert.equal(up.received.length, n);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    gh.audit.some((e) => e.error === 'GH_HEADERS_TOO_LARGE' && e.status === 431),
    'the rejection is audited',
  );
});

test('a client that never finishes its headers is cut off after the header timeout, and the next request is served', async () => {
  const started = Date.now();
  const out = await raw(gh.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n', 5000);
  assert.ok(Date.now() - started < 4000, 'slow-loris connection closed by the server');
  assert.ok(out === '' || /^HTTP\/1\.1 408/.test(out), out);
  assert.equal((await send(gh.url, '/after')).status, 200);
});
