import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { httpsGet } from '../helpers/https.js';
import { X509Certificate, createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { createPki, type CertFiles, type TestCa, type TestPki } from '../helpers/certs.js';

// Client certificates at the listener: a verified certificate becomes a `client` principal
// (SPIFFE ID or subject DN), optionally forwarded upstream in headers that clients cannot forge.

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let server: CertFiles;
let agent: CertFiles;
let expired: CertFiles;
let stranger: CertFiles;
let up: RecordingUpstream;
let gh: TestGateway;
let requireUrl: string;

before(async () => {
  pki = createPki();
  ca = pki.createCa('Gatehouse Test Root');
  otherCa = pki.createCa('Someone Else Root');
  server = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  agent = ca.issue({
    cn: 'agent-7',
    o: 'Acme',
    usage: 'client',
    san: ['URI:spiffe://example.org/ns/prod/sa/agent-7', 'email:agent7@example.org'],
  });
  expired = ca.issue({ cn: 'old-agent', usage: 'client', expired: true });
  stranger = otherCa.issue({
    cn: 'agent-7',
    usage: 'client',
    san: ['URI:spiffe://example.org/ns/prod/sa/agent-7'],
  });
  up = await startUpstream();
  const tls = { cert: server.certPath, key: server.keyPath, client_ca: ca.certPath };
  gh = await startGatehouse({
    server: {
      listeners: [
        { address: '127.0.0.1', port: 0, tls: { ...tls, client_certificate: 'request' } },
        { address: '127.0.0.1', port: 0, tls: { ...tls, client_certificate: 'require' } },
      ],
    },
    upstreams: { app: { url: up.url } },
    routes: [
      {
        name: 'agents',
        match: { path: '/agents' },
        upstream: 'app',
        auth: 'mtls',
        allow: 'authenticated',
        identity: { client_cert_headers: true },
      },
      { name: 'public', match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
  });
  requireUrl = gh.gateway.listeners[1]!.url;
});

after(async () => {
  await gh?.close();
  await up?.close();
  pki?.cleanup();
});

interface Res {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

function get(
  base: string,
  path: string,
  client: CertFiles | undefined,
  headers: Record<string, string> = {},
): Promise<Res> {
  return httpsGet(base, path, { ca: ca.cert, cert: client?.cert, key: client?.key, headers });
}

test('a verified client certificate authenticates; its details reach the upstream, forged ones do not', async () => {
  const r = await get(gh.url, '/agents/run', agent, {
    'X-Client-Cert-Subject': 'CN=admin',
    X_Client_Cert_Spiffe: 'spiffe://evil/admin',
  });
  assert.equal(r.status, 200, r.body);
  const h = up.received.at(-1)!.headers;
  const der = new X509Certificate(agent.cert).raw;
  assert.equal(h['x-client-cert-spiffe'], 'spiffe://example.org/ns/prod/sa/agent-7');
  assert.equal(h['x-client-cert-subject'], 'CN=agent-7,O=Acme');
  assert.equal(h['x-client-cert-issuer'], 'CN=Gatehouse Test Root,O=Gatehouse Tests');
  assert.equal(h['x-client-cert-fingerprint'], createHash('sha256').update(der).digest('hex'));
  const ev = gh.audit.at(-1)!;
  assert.equal(ev.decision, 'allow');
  assert.equal(ev.subject, 'spiffe://example.org/ns/prod/sa/agent-7');
  assert.equal(ev.provider, 'mtls');
  assert.equal(ev.credential_id, `sha256:${createHash('sha256').update(der).digest('hex')}`);
  assert.ok(ev.reasons.includes('header.spoof.stripped'), "ev.reasons.includes('header.spoof.stripped')");
});

test('no client certificate: 401 on the mtls route, public routes still work', async () => {
  const r = await get(gh.url, '/agents/run', undefined);
  assert.equal(r.status, 401);
  const p = await get(gh.url, '/hello', undefined, { 'X-Client-Cert-Fingerprint': 'forged' });
  assert.equal(p.status, 200);
  assert.equal(up.received.at(-1)!.headers['x-client-cert-fingerprint'], undefined);
});

test('expired certificate or one from another CA: 401 GH_CLIENT_CERT_INVALID (client_certificate: request)', async () => {
  const n = up.received.length;
  for (const c of [expired, stranger]) {
    const r = await get(gh.url, '/agents/run', c);
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error, 'GH_CLIENT_CERT_INVALID');
  }
  assert.equal(up.received.length, n);
  assert.match(String(gh.audit.at(-1)!.reasons), /mtls\.cert\.invalid|GH_CLIENT_CERT_INVALID/);
});

test('client_certificate: require refuses the handshake without a valid certificate', async () => {
  const ok = await get(requireUrl, '/agents/run', agent);
  assert.equal(ok.status, 200);
  for (const c of [undefined, stranger, expired]) {
    await assert.rejects(
      get(requireUrl, '/agents/run', c),
      (e: NodeJS.ErrnoException) => typeof e.code === 'string',
    );
  }
});
