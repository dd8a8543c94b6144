import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { requireBinary } from '../helpers/binaries.js';
import { createPki, type TestCa, type TestPki } from '../helpers/certs.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { doctorJson, only, workdir } from './helpers.js';

// Upstream reachability (TCP/TLS connect + HEAD) and certificate expiry of listeners and https
// upstreams, against real servers and real certificates.

let pki: TestPki;
let ca: TestCa;
let app: RecordingUpstream;
let failing: RecordingUpstream;
let tlsApp: Server;
let tlsPort: number;
const wd = workdir();

before(async () => {
  pki = createPki();
  ca = pki.createCa('doctor-ca');
  app = await startUpstream();
  failing = await startUpstream((_req, res) => res.writeHead(503).end());
  // The test CA issues leaves valid for 2 days: inside the default 30-day window.
  const leaf = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  tlsApp = createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.writeHead(204).end());
  await new Promise<void>((r) => tlsApp.listen(0, '127.0.0.1', () => r()));
  tlsPort = (tlsApp.address() as AddressInfo).port;
});
after(async () => {
  await app.close();
  await failing.close();
  await new Promise<void>((r) => tlsApp.close(() => r()));
  pki.cleanup();
  wd.cleanup();
});

const write = (c: unknown) => wd.write(`u-${Math.random().toString(36).slice(2)}.yaml`, c);

test('tls.expiry: an https upstream certificate expiring within 30 days; --expiry-days 1 accepts it', async () => {
  const file = write({
    upstreams: { secure: { url: `https://127.0.0.1:${tlsPort}`, tls: { ca: ca.certPath } } },
  });
  const { report } = await doctorJson(['-c', file, '--only', 'upstream,tls']);
  assert.equal(only(report, 'upstream.reachable').severity, 'ok');
  const f = only(report, 'tls.expiry', 'upstreams.secure');
  assert.equal(f.severity, 'warning');
  assert.match(f.what, /expires in 1 d \d+ h \(within 30 days\)/);
  const relaxed = await doctorJson(['-c', file, '--only', 'tls', '--expiry-days', '1']);
  assert.equal(only(relaxed.report, 'tls.expiry').severity, 'ok');
});

test('tls.expiry: an expired listener certificate is an error', async () => {
  const leaf = ca.issue({ cn: 'gatehouse.example.test', expired: true });
  const file = write({
    server: {
      listeners: [{ address: '127.0.0.1', port: 8443, tls: { cert: leaf.certPath, key: leaf.keyPath } }],
    },
  });
  const { run, report } = await doctorJson(['-c', file, '--only', 'tls']);
  assert.equal(run.code, 1);
  const f = only(report, 'tls.expiry');
  assert.equal(f.subject, 'server.listeners[0].tls');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /expired \d+ d/);
  assert.match(f.evidence ?? '', /valid until 2020-02-01/);
});

test('tls.expiry: a PKCS#12 (pfx) listener certificate is read with its passphrase', async () => {
  const leaf = ca.issue({ cn: 'pfx.example.test' });
  const pfx = join(pki.dir, 'listener.pfx');
  execFileSync(requireBinary('openssl', 'openssl'), [
    'pkcs12',
    '-export',
    '-in',
    leaf.certPath,
    '-inkey',
    leaf.keyPath,
    '-out',
    pfx,
    '-passout',
    'pass:doctor-pfx',
  ]);
  const file = write({
    server: { listeners: [{ address: '127.0.0.1', port: 8443, tls: { pfx, passphrase: 'doctor-pfx' } }] },
  });
  const { report } = await doctorJson(['-c', file, '--only', 'tls']);
  const f = only(report, 'tls.expiry');
  assert.equal(f.severity, 'warning');
  assert.match(f.evidence ?? '', /CN=pfx\.example\.test, valid until/);
});
