import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { createPki, type CertFiles, type TestCa, type TestPki } from '../helpers/certs.js';

// TLS to upstreams (issue 5 point 7): per-upstream CA, server name, client certificate. Every
// certificate problem is a 502 GH_UPSTREAM_TLS, never a silent fallback to an unverified connection.

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let gatewayClient: CertFiles;
const servers: Server[] = [];
let gh: TestGateway;

async function tlsUpstream(cert: CertFiles, opts: { requireClientCert?: boolean } = {}): Promise<string> {
  const s = createHttpsServer(
    {
      cert: cert.cert,
      key: cert.key,
      ...(opts.requireClientCert ? { requestCert: true, rejectUnauthorized: true, ca: ca.cert } : {}),
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, clientCn: peer?.subject?.CN ?? null }));
    },
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  servers.push(s);
  return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

before(async () => {
  pki = createPki();
  ca = pki.createCa('Upstream Root');
  otherCa = pki.createCa('Unrelated Root');
  gatewayClient = ca.issue({ cn: 'gatehouse', usage: 'client' });
  const name = ['DNS:app.internal'];
  const good = await tlsUpstream(ca.issue({ cn: 'app.internal', san: name }));
  const expired = await tlsUpstream(ca.issue({ cn: 'app.internal', san: name, expired: true }));
  const wrongCa = await tlsUpstream(otherCa.issue({ cn: 'app.internal', san: name }));
  const wrongName = await tlsUpstream(ca.issue({ cn: 'other.internal', san: ['DNS:other.internal'] }));
  const mtls = await tlsUpstream(ca.issue({ cn: 'app.internal', san: name }), { requireClientCert: true });
  const tls = { ca: ca.certPath, server_name: 'app.internal' };
  const client = { ...tls, cert: gatewayClient.certPath, key: gatewayClient.keyPath };
  gh = await startGatehouse({
    upstreams: {
      good: { url: good, tls },
      expired: { url: expired, tls },
      wrong_ca: { url: wrongCa, tls },
      wrong_name: { url: wrongName, tls },
      mtls_with: { url: mtls, tls: client },
      mtls_without: { url: mtls, tls },
      system_store: { url: good },
    },
    routes: ['good', 'expired', 'wrong_ca', 'wrong_name', 'mtls_with', 'mtls_without', 'system_store'].map(
      (u) => ({
        name: u,
        match: { path: `/${u}` },
        upstream: u,
        auth: 'none',
      }),
    ),
  });
});

after(async () => {
  await gh?.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  pki?.cleanup();
});

test('valid upstream certificate for the configured server name and CA: forwarded', async () => {
  const r = await send(gh.url, '/good/x');
  assert.equal(r.status, 200);
  assert.equal(r.json().ok, true);
});

for (const [path, what] of [
  ['/expired', 'an expired certificate'],
  ['/wrong_ca', 'a certificate from another CA'],
  ['/wrong_name', 'a certificate for another name'],
  ['/system_store', 'a private CA not in the system store when no ca is configured'],
] as const) {
  test(`upstream with ${what}: 502 GH_UPSTREAM_TLS`, async () => {
    const r = await send(gh.url, `${path}/x`);
    assert.equal(r.status, 502);
    assert.equal(r.json().error, 'GH_UPSTREAM_TLS');
    assert.equal(gh.audit.at(-1)?.error, 'GH_UPSTREAM_TLS');
  });
}

test('upstream requiring a client certificate: Gatehouse presents its own; without one, 502', async () => {
  const ok = await send(gh.url, '/mtls_with/x');
  assert.equal(ok.status, 200);
  assert.equal(ok.json().clientCn, 'gatehouse');
  const no = await send(gh.url, '/mtls_without/x');
  assert.equal(no.status, 502);
  // TLS 1.2 reports the refusal as a handshake alert (GH_UPSTREAM_TLS); with TLS 1.3 the server
  // rejects after the client's Finished, which undici only sees as a closed socket.
  assert.match(String(no.json().error), /^GH_UPSTREAM_(TLS|UNAVAILABLE)$/);
});
