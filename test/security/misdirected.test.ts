import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type TLSSocket } from 'node:tls';
import { createPki, type TestPki, type CertFiles } from '../helpers/certs.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';

// A TLS connection set up for one server name (SNI) must not carry requests for another host:
// 421 Misdirected Request, never forwarded; the client must open a new connection.

let pki: TestPki;
let ca: CertFiles;
let up: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  pki = createPki();
  const authority = pki.createCa('misdirected-ca');
  ca = authority;
  const server = authority.issue({
    cn: 'public.test',
    san: ['DNS:public.test', 'DNS:payroll.test', 'IP:127.0.0.1'],
    usage: 'server',
  });
  up = await startUpstream();
  gh = await startGatehouse({
    server: {
      listeners: [{ address: '127.0.0.1', port: 0, tls: { cert: server.certPath, key: server.keyPath } }],
    },
    upstreams: { app: { url: up.url } },
    routes: [
      { name: 'public', match: { host: 'public.test', path: '/' }, upstream: 'app', auth: 'none' },
      { name: 'payroll', match: { host: 'payroll.test', path: '/' }, upstream: 'app', auth: 'none' },
      { name: 'by-ip', match: { host: '127.0.0.1', path: '/' }, upstream: 'app', auth: 'none' },
    ],
  });
});

after(async () => {
  await gh?.close();
  await up?.close();
  pki?.cleanup();
});

/** Sends raw requests on one TLS connection opened with `servername`; returns what was read. */
function onConnection(servername: string | undefined, requests: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({
      host: '127.0.0.1',
      port: gh.port,
      ca: ca.cert,
      ...(servername === undefined ? { checkServerIdentity: () => undefined } : { servername }),
    });
    let out = '';
    const t = setTimeout(() => (s.destroy(), resolve(out)), 2000);
    s.on('secureConnect', () => s.write(requests.join('')));
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => (clearTimeout(t), resolve(out)));
    s.on('error', (e) => (out ? resolve(out) : reject(e)));
  });
}

const get = (host: string, close = false) =>
  `GET /x HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

test('a request whose Host matches the SNI name is served', async () => {
  const before = up.received.length;
  const out = await onConnection('public.test', [get('public.test', true)]);
  assert.match(out, /^HTTP\/1\.1 200 /);
  assert.equal(up.received.length, before + 1);
});

test('a connection opened for public.test cannot reach payroll.test: 421, never forwarded, connection closed', async () => {
  const before = up.received.length;
  const out = await onConnection('public.test', [
    get('public.test'),
    get('payroll.test'),
    get('public.test'),
  ]);
  const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['200', '421'], 'the 421 ends the connection: the third request is never read');
  assert.match(out, /"error":"GH_MISDIRECTED_REQUEST"/);
  assert.match(out, /"request_id":"[^"]+"/);
  const hosts = up.received.slice(before).map((r) => r.headers.host);
  assert.ok(hosts.length >= 1, 'hosts.length >= 1');
  assert.ok(!hosts.includes('payroll.test'), 'the misdirected request never reached the upstream');
  const ev = gh.audit.find((e) => e.host === 'payroll.test');
  assert.equal(ev?.error, 'GH_MISDIRECTED_REQUEST');
  assert.equal(ev?.status, 421);
});

test('SNI and Host compare case-insensitively, with or without a port or trailing dot', async () => {
  const out = await onConnection('Payroll.Test', [get(`PAYROLL.test.:${gh.port}`, true)]);
  assert.match(out, /^HTTP\/1\.1 200 /);
});

test('a connection without SNI (an IP address) is not bound to a name', async () => {
  const out = await onConnection(undefined, [get('127.0.0.1', true)]);
  assert.match(out, /^HTTP\/1\.1 200 /);
});
