import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createPki, type TestCa, type TestPki } from '../helpers/certs.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { closedPort, doctorJson, only, workdir } from './helpers.js';

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

test('upstream.reachable: a running app answers HEAD, a closed port is named ECONNREFUSED, a 503 is a warning', async () => {
  const port = await closedPort();
  const file = write({
    upstreams: {
      app: { url: app.url },
      gone: { url: `http://127.0.0.1:${port}` },
      sick: { url: failing.url },
    },
  });
  const { run, report } = await doctorJson(['-c', file, '--only', 'upstream']);
  assert.equal(run.code, 1);
  const ok = only(report, 'upstream.reachable', 'upstreams.app');
  assert.equal(ok.severity, 'ok');
  assert.match(ok.evidence ?? '', /HEAD \/ → HTTP 200/);
  assert.equal(app.received.at(-1)?.method, 'HEAD');
  const gone = only(report, 'upstream.reachable', 'upstreams.gone');
  assert.equal(gone.severity, 'error');
  assert.match(gone.evidence ?? '', /ECONNREFUSED/);
  assert.equal(only(report, 'upstream.reachable', 'upstreams.sick').severity, 'warning');
});

test('upstream.tls: an https upstream whose CA is not configured', async () => {
  const file = write({ upstreams: { secure: { url: `https://127.0.0.1:${tlsPort}` } } });
  const { report } = await doctorJson(['-c', file, '--only', 'upstream']);
  const f = only(report, 'upstream.tls');
  assert.equal(f.severity, 'error');
  assert.match(f.fix ?? '', /upstreams\.secure\.tls\.ca/);
});
