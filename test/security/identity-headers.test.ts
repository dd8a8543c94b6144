import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream, type Received } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { raw, send } from '../helpers/http.js';
import { startIdp, type TestIdp } from '../identity/idp.js';
import { normalizeHeaderName } from '../../src/identity/strip.js';

// Strip before inject, header templates, Easy Auth and token forwarding through the full gateway,
// observed at an upstream that records exactly what it received.

let up: RecordingUpstream;
let idp: TestIdp;
let gh: TestGateway;

const FORGED: Array<[string, string]> = [
  ['X-Remote-User', 'admin'],
  ['x-remote-user', 'admin'],
  ['X-REMOTE-USER', 'admin'],
  ['X_Remote_User', 'admin'],
  ['x_remote-user', 'admin'],
  ['Remote_User', 'admin'],
  ['X-Forwarded-User', 'admin'],
  ['X_Forwarded_Email', 'ceo@example.com'],
  ['x-forwarded-groups', 'Domain Admins'],
  ['X-Ms-Client-Principal', 'eyJhdXRoX3R5cCI6ImFhZCJ9'],
  ['X_MS_CLIENT_PRINCIPAL_NAME', 'admin'],
  ['x-ms-client-principal-id', '0'],
  ['X-MS-CLIENT-PRINCIPAL-IDP', 'aad'],
  ['X-MS-TOKEN-AAD-ACCESS-TOKEN', 'forged'],
  ['X-Gatehouse-Assertion', 'forged.jwt.value'],
  ['X-Auth-Request-User', 'admin'],
  ['X-Client-Cert-Subject', 'CN=admin'],
  ['X_SSL_Client_Verify', 'SUCCESS'],
  ['X-Tenant', 'other-tenant'],
  ['x_tenant', 'other-tenant'],
];

/** Every header name the upstream saw, normalised. */
const seenNames = (r: Received): string[] => {
  const out: string[] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) out.push(normalizeHeaderName(r.rawHeaders[i] as string));
  return out;
};

before(async () => {
  up = await startUpstream();
  idp = await startIdp();
  gh = await startGatehouse({
    providers: { corp: idp.provider },
    upstreams: { app: { url: up.url } },
    routes: [
      { name: 'public', match: { path: '/public' }, upstream: 'app', auth: 'none' },
      {
        name: 'app',
        match: { path: '/app' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: {
          headers: {
            'X-Forwarded-User': '{sub}',
            'X-Forwarded-Email': '{email}',
            'X-Forwarded-Groups': '{groups}',
            'X-Display-Name': '{name}',
            'X-Tenant': '{claims.tid}',
            'X-Dept': '{claims.dept}',
          },
        },
      },
      {
        name: 'small',
        match: { path: '/small' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { headers: { 'X-Forwarded-Groups': '{groups}' }, max_header_bytes: 2048 },
      },
      {
        name: 'strict',
        match: { path: '/strict' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { headers: { 'X-Display-Name': '{name}' }, non_ascii: 'reject' },
      },
      {
        name: 'rfc8187',
        match: { path: '/rfc8187' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { headers: { 'X-Display-Name': '{name}' }, non_ascii: 'rfc8187' },
      },
      {
        name: 'easy',
        match: { path: '/easy' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { easy_auth: { provider_name: 'aad' }, forward_token: 'remove' },
      },
    ],
  });
});

after(async () => {
  await gh?.close();
  await up?.close();
  await idp?.close();
});

const alice = () =>
  idp.token({
    sub: 'alice-sub',
    email: 'alice@example.com',
    name: 'Alice Example',
    groups: ['staff', 'finance'],
    tid: 'tenant-1',
    oid: 'oid-alice',
    preferred_username: 'alice@example.com',
    roles: ['Reader'],
  });

test('forged identity headers in every case/underscore variant never reach the upstream (public route)', async () => {
  // Raw bytes: node's http client would merge names that differ only in case.
  const head = FORGED.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const r = await raw(
    gh.port,
    `GET /public/x HTTP/1.1\r\nHost: app.example\r\n${head}Connection: close\r\n\r\n`,
  );
  assert.match(r, /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1)!;
  const names = seenNames(got);
  for (const [n] of FORGED) assert.ok(!names.includes(normalizeHeaderName(n)), `${n} reached the upstream`);
  const ev = gh.audit.at(-1)!;
  assert.ok(ev.reasons.includes('header.spoof.stripped'), "ev.reasons.includes('header.spoof.stripped')");
  assert.deepEqual([...(ev.stripped_headers ?? [])].sort(), FORGED.map(([n]) => n).sort());
});

test('on a protected route forged values are replaced by the verified identity, one value each', async () => {
  const r = await send(gh.url, '/app/x', {
    headers: [...FORGED, ['Authorization', `Bearer ${await alice()}`]],
  });
  assert.equal(r.status, 200);
  const got = up.received.at(-1)!;
  const count = (n: string) => seenNames(got).filter((x) => x === n).length;
  assert.equal(count('x-forwarded-user'), 1);
  assert.equal(count('x-tenant'), 1);
  assert.equal(count('x-remote-user'), 0);
  assert.equal(count('x-ms-client-principal'), 0);
  assert.equal(got.headers['x-forwarded-user'], 'alice-sub');
  assert.equal(got.headers['x-forwarded-email'], 'alice@example.com');
  assert.equal(got.headers['x-forwarded-groups'], 'staff,finance');
  assert.equal(got.headers['x-tenant'], 'tenant-1');
  assert.ok(String(got.headers.authorization).startsWith('Bearer '), 'verified bearer token kept by default');
});

test('Connection: cannot make the forwarder drop an injected identity header', async () => {
  const r = await send(gh.url, '/app/x', {
    headers: { Authorization: `Bearer ${await alice()}`, Connection: 'X-Forwarded-User, X-Tenant' },
  });
  assert.equal(r.status, 200);
  const got = up.received.at(-1)!;
  assert.equal(got.headers['x-forwarded-user'], 'alice-sub');
  assert.equal(got.headers['x-tenant'], 'tenant-1');
});

test('non-ASCII and CR/LF in claims are percent-encoded, never sent raw', async () => {
  const tok = await idp.token({
    sub: 'zoe',
    name: 'Zoë',
    dept: 'Ops\r\nX-Remote-User: admin',
    groups: ['a,b', 'Ünïcode'],
  });
  const r = await send(gh.url, '/app/x', { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 200);
  const got = up.received.at(-1)!;
  assert.equal(got.headers['x-remote-user'], undefined);
  assert.equal(got.headers['x-display-name'], 'Zo%C3%AB');
  assert.equal(got.headers['x-dept'], 'Ops%0D%0AX-Remote-User: admin');
  assert.equal(decodeURIComponent(String(got.headers['x-dept'])), 'Ops\r\nX-Remote-User: admin');
  assert.deepEqual(String(got.headers['x-forwarded-groups']).split(',').map(decodeURIComponent), [
    'a,b',
    'Ünïcode',
  ]);
  assert.equal(got.headers['x-forwarded-email'], undefined, 'a missing claim omits the header');
});

test('non_ascii: rfc8187 sends an ext-value; reject refuses with 403 GH_IDENTITY_UNENCODABLE', async () => {
  const tok = await idp.token({ sub: 'jurgen', name: 'Jürgen' });
  const ok = await send(gh.url, '/rfc8187/x', { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(ok.status, 200);
  assert.equal(up.received.at(-1)!.headers['x-display-name'], "UTF-8''J%C3%BCrgen");
  const n = up.received.length;
  const r = await send(gh.url, '/strict/x', { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_IDENTITY_UNENCODABLE');
  assert.equal(up.received.length, n, 'not forwarded');
});

test('identity headers over max_header_bytes: 403 GH_IDENTITY_TOO_LARGE, nothing forwarded, audited', async () => {
  const groups = Array.from({ length: 200 }, (_, i) => `sg-department-${i}`);
  const tok = await idp.token({ sub: 'bob', groups });
  const n = up.received.length;
  const r = await send(gh.url, '/small/x', { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_IDENTITY_TOO_LARGE');
  assert.equal(up.received.length, n);
  const ev = gh.audit.at(-1)!;
  assert.equal(ev.error, 'GH_IDENTITY_TOO_LARGE');
  const fits = await send(gh.url, '/small/x', { headers: { Authorization: `Bearer ${await alice()}` } });
  assert.equal(fits.status, 200);
});

test('Easy Auth headers decode field by field like App Service for Entra ID', async () => {
  const r = await send(gh.url, '/easy/x', {
    headers: { Authorization: `Bearer ${await alice()}`, 'X-MS-CLIENT-PRINCIPAL-NAME': 'admin' },
  });
  assert.equal(r.status, 200);
  const h = up.received.at(-1)!.headers;
  assert.equal(h.authorization, undefined, 'forward_token: remove');
  assert.equal(h['x-ms-client-principal-name'], 'alice@example.com');
  assert.equal(h['x-ms-client-principal-id'], 'oid-alice');
  assert.equal(h['x-ms-client-principal-idp'], 'aad');
  const doc = JSON.parse(Buffer.from(String(h['x-ms-client-principal']), 'base64').toString('utf8')) as {
    auth_typ: string;
    name_typ: string;
    role_typ: string;
    claims: { typ: string; val: string }[];
  };
  assert.equal(doc.auth_typ, 'aad');
  assert.equal(doc.name_typ, 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
  assert.equal(doc.role_typ, 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role');
  const vals = (typ: string) => doc.claims.filter((c) => c.typ === typ).map((c) => c.val);
  assert.deepEqual(vals('http://schemas.microsoft.com/identity/claims/objectidentifier'), ['oid-alice']);
  assert.deepEqual(vals('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier'), [
    'alice-sub',
  ]);
  assert.deepEqual(vals('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'), [
    'alice@example.com',
  ]);
  assert.deepEqual(vals('http://schemas.microsoft.com/identity/claims/tenantid'), ['tenant-1']);
  assert.deepEqual(vals('http://schemas.microsoft.com/ws/2008/06/identity/claims/role'), ['Reader']);
  assert.deepEqual(vals('groups'), ['staff', 'finance']);
  assert.deepEqual(vals('name'), ['Alice Example']);
  assert.deepEqual(vals('preferred_username'), ['alice@example.com']);
  assert.deepEqual(vals('iss'), [idp.issuer]);
});
