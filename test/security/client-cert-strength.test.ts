import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { httpsGet } from '../helpers/https.js';
import type { IncomingHttpHeaders } from 'node:http';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { createPki, type CertFiles, type TestCa, type TestPki } from '../helpers/certs.js';
import { issueVariant } from '../helpers/cert-variants.js';
import { certWeakness } from '../../src/authn/cert-strength.js';
import { send } from '../helpers/http.js';

// Issue 12 item 5a and the RFC 8705 half of item 4: client certificates with weak keys or SHA-1
// signatures are refused wherever Gatehouse trusts a client certificate (the mtls authenticator
// and certificate-bound tokens), and a token carrying cnf.x5t#S256 is accepted only over a TLS
// connection whose verified client certificate has that thumbprint. Every refusal goes through a
// real TLS listener and is checked for status, error code, audit reason and an idle upstream.

interface Res {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** x5t#S256 of a PEM certificate (RFC 8705 §3.1): base64url SHA-256 of the DER bytes. */
const x5t = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

let pki: TestPki;
let ca: TestCa;
let serverCert: CertFiles;
const c: Record<string, CertFiles & { chain?: string; tls12?: boolean }> = {};
let up: RecordingUpstream;
let idp: IdpServer;
let gh: TestGateway;
let requestUrl: string;
let requireUrl: string;
let plainUrl: string;

function get(
  base: string,
  path: string,
  client: (CertFiles & { chain?: string; tls12?: boolean }) | undefined,
  headers: Record<string, string> = {},
): Promise<Res> {
  return httpsGet(base, path, {
    ca: ca.cert,
    cert: client?.chain ?? client?.cert,
    key: client?.key,
    headers,
    tls: {
      // Lets this client present SHA-1 and 1024-bit certificates; the server keeps its defaults.
      ciphers: 'DEFAULT@SECLEVEL=0',
      // TLS 1.3 has no signature scheme for P-224 (RFC 8446 §4.2.3): such a client sends no certificate.
      maxVersion: client?.tls12 ? 'TLSv1.2' : undefined,
    },
  });
}

async function expectRefused(
  fire: () => Promise<Res>,
  status: number,
  code: string,
  reason: string,
  label: string,
): Promise<void> {
  const upBefore = up.received.length;
  const auditBefore = gh.audit.length;
  const r = await fire();
  assert.equal(r.status, status, `${label}: ${r.body}`);
  assert.equal(JSON.parse(r.body).error, code, label);
  await new Promise((res) => setImmediate(res));
  assert.equal(up.received.length, upBefore, `${label}: nothing reached the upstream`);
  assert.equal(gh.audit.length - auditBefore, 1, `${label}: one audit event`);
  const ev = gh.audit.at(-1)!;
  assert.deepEqual([ev.status, ev.error], [status, code], label);
  assert.ok(ev.reasons.includes(reason), `${label}: reasons ${JSON.stringify(ev.reasons)} include ${reason}`);
}

before(async () => {
  pki = createPki();
  ca = pki.createCa('Strength Root');
  serverCert = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  c.ecP256 = ca.issue({ cn: 'agent-ec', usage: 'client' });
  c.rsa2048 = issueVariant(pki, ca, { cn: 'agent-rsa2048', key: 'rsa:2048' });
  c.rsa1024 = issueVariant(pki, ca, { cn: 'agent-rsa1024', key: 'rsa:1024' });
  c.p224 = { ...issueVariant(pki, ca, { cn: 'agent-p224', key: 'ec:P-224' }), tls12: true };
  c.ecP384 = issueVariant(pki, ca, { cn: 'agent-p384', key: 'ec:P-384', md: 'sha384' });
  c.sha1 = issueVariant(pki, ca, { cn: 'agent-sha1', md: 'sha1' });
  const weakInter = issueVariant(pki, ca, { cn: 'SHA-1 Intermediate', md: 'sha1', ca: true });
  const underSha1 = issueVariant(pki, weakInter, { cn: 'agent-under-sha1-intermediate' });
  c.underSha1 = { ...underSha1, chain: underSha1.cert + weakInter.cert };
  const inter = issueVariant(pki, ca, { cn: 'Good Intermediate', ca: true });
  const underGood = issueVariant(pki, inter, { cn: 'agent-under-good-intermediate' });
  c.underGood = { ...underGood, chain: underGood.cert + inter.cert };
  up = await startUpstream();
  idp = await startIdp({ algs: ['ES256'] });
  const tls = { cert: serverCert.certPath, key: serverCert.keyPath, client_ca: ca.certPath };
  gh = await startGatehouse({
    server: {
      listeners: [
        { address: '127.0.0.1', port: 0, tls: { ...tls, client_certificate: 'request' } },
        { address: '127.0.0.1', port: 0, tls: { ...tls, client_certificate: 'require' } },
        { address: '127.0.0.1', port: 0 },
      ],
    },
    upstreams: { app: { url: up.url } },
    providers: { corp: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
    routes: [
      { name: 'agents', match: { path: '/agents' }, upstream: 'app', auth: 'mtls', allow: 'authenticated' },
      { name: 'api', match: { path: '/api' }, upstream: 'app', auth: 'bearer', allow: 'authenticated' },
    ],
  });
  [requestUrl, requireUrl, plainUrl] = gh.gateway.listeners.map((l) => l.url) as [string, string, string];
});

after(async () => {
  await gh?.close();
  await up?.close();
  await idp?.close();
  pki?.cleanup();
});

describe('client certificate strength (mtls authenticator)', () => {
  it('EC P-256/P-384 and RSA 2048 certificates signed with SHA-2, directly or via an intermediate, authenticate', async () => {
    for (const name of ['ecP256', 'ecP384', 'rsa2048', 'underGood']) {
      for (const base of [requestUrl, requireUrl]) {
        const n = up.received.length;
        const r = await get(base, '/agents/run', c[name]);
        assert.equal(r.status, 200, `${name}: ${r.body}`);
        assert.equal(up.received.length, n + 1);
        assert.equal(gh.audit.at(-1)?.provider, 'mtls');
      }
    }
  });

  it('an RSA key under 2048 bits: 401 GH_CLIENT_CERT_WEAK mtls.cert.weak_key on request and require listeners', async () => {
    for (const base of [requestUrl, requireUrl]) {
      await expectRefused(
        () => get(base, '/agents/run', c.rsa1024),
        401,
        'GH_CLIENT_CERT_WEAK',
        'mtls.cert.weak_key',
        `rsa1024 on ${base === requestUrl ? 'request' : 'require'}`,
      );
    }
  });

  it('an EC key on P-224 never gets through: the TLS stack refuses the handshake, and the checker would refuse it too', async () => {
    const n = up.received.length;
    const audits = gh.audit.length;
    await assert.rejects(get(requestUrl, '/agents/run', c.p224), /EPROTO|alert/);
    assert.equal(up.received.length, n);
    assert.equal(gh.audit.length, audits, 'no request was ever made');
    // The same certificate as the per-connection checker sees it (defence in depth should a
    // future TLS stack accept the handshake).
    assert.deepEqual(certWeakness(new X509Certificate(c.p224!.cert).raw)?.reason, 'mtls.cert.weak_key');
    assert.equal(certWeakness(new X509Certificate(c.ecP384!.cert).raw), undefined);
  });

  it('a certificate signed with SHA-1, or issued by an intermediate signed with SHA-1: 401 mtls.cert.weak_signature', async () => {
    for (const name of ['sha1', 'underSha1']) {
      await expectRefused(
        () => get(requestUrl, '/agents/run', c[name]),
        401,
        'GH_CLIENT_CERT_WEAK',
        'mtls.cert.weak_signature',
        name,
      );
    }
    // client_certificate: require — OpenSSL itself refuses SHA-1 chains in the handshake.
    const n = up.received.length;
    await assert.rejects(get(requireUrl, '/agents/run', c.sha1));
    assert.equal(up.received.length, n);
  });
});

describe('certificate-bound tokens (RFC 8705 §3)', () => {
  it('are accepted over a connection with the matching verified certificate, on every use (cached or not)', async () => {
    const token = await idp.token({ cnf: { 'x5t#S256': x5t(c.ecP256!.cert) } });
    for (let i = 0; i < 3; i++) {
      const n = up.received.length;
      const r = await get(requestUrl, '/api/orders', c.ecP256, { authorization: `Bearer ${token}` });
      assert.equal(r.status, 200, r.body);
      assert.equal(up.received.length, n + 1);
    }
    // The token is now in the verified-token cache: the binding is still checked per connection.
    await expectRefused(
      () => get(requestUrl, '/api/orders', c.rsa2048, { authorization: `Bearer ${token}` }),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_mismatch',
      'cached token, other certificate',
    );
    await expectRefused(
      () => get(requestUrl, '/api/orders', undefined, { authorization: `Bearer ${token}` }),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_missing',
      'cached token, no certificate',
    );
    await expectRefused(
      () => send(plainUrl, '/api/orders', { headers: { authorization: `Bearer ${token}` } }),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_missing',
      'cached token, plain HTTP',
    );
  });

  it('a fresh bound token is refused without its certificate before it is ever cached', async () => {
    const token = await idp.token({ cnf: { 'x5t#S256': x5t(c.ecP256!.cert) } });
    await expectRefused(
      () => get(requireUrl, '/api/orders', c.underGood, { authorization: `Bearer ${token}` }),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_mismatch',
      'other certificate',
    );
    await expectRefused(
      () => send(plainUrl, '/api/orders', { headers: { authorization: `Bearer ${token}` } }),
      401,
      'GH_TOKEN_CERT_BINDING',
      'token.cert_missing',
      'plain HTTP',
    );
  });

  it('a certificate that did not verify or is weak does not satisfy the binding, even with the right thumbprint', async () => {
    const other = createPki();
    try {
      const stranger = other.createCa('Stranger Root').issue({ cn: 'agent-x', usage: 'client' });
      const t1 = await idp.token({ cnf: { 'x5t#S256': x5t(stranger.cert) } });
      await expectRefused(
        () => get(requestUrl, '/api/orders', stranger, { authorization: `Bearer ${t1}` }),
        401,
        'GH_TOKEN_CERT_BINDING',
        'token.cert_missing',
        'unverified certificate',
      );
    } finally {
      other.cleanup();
    }
    const t2 = await idp.token({ cnf: { 'x5t#S256': x5t(c.rsa1024!.cert) } });
    await expectRefused(
      () => get(requestUrl, '/api/orders', c.rsa1024, { authorization: `Bearer ${t2}` }),
      401,
      'GH_CLIENT_CERT_WEAK',
      'mtls.cert.weak_key',
      'weak certificate',
    );
  });

  it('DPoP-bound tokens (cnf.jkt) are refused as bearer tokens even over mTLS; other cnf methods too', async () => {
    const jkt = await idp.token({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } });
    await expectRefused(
      () => get(requestUrl, '/api/orders', c.ecP256, { authorization: `Bearer ${jkt}` }),
      401,
      'GH_TOKEN_DPOP_BOUND',
      'token.dpop_bound',
      'cnf.jkt',
    );
    const both = await idp.token({ cnf: { 'x5t#S256': x5t(c.ecP256!.cert), jwk: { kty: 'EC' } } });
    await expectRefused(
      () => get(requestUrl, '/api/orders', c.ecP256, { authorization: `Bearer ${both}` }),
      401,
      'GH_TOKEN_INVALID',
      'token.cnf_unsupported',
      'two confirmation methods',
    );
  });
});
