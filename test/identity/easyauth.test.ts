import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientPrincipalId,
  clientPrincipalName,
  encodeClientPrincipal,
  type ClientPrincipalDocument,
} from '../../src/identity/easyauth.js';
import { userPrincipal } from './fixtures.js';

const ROLE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

function decode(v: string): ClientPrincipalDocument {
  assert.match(v, /^[A-Za-z0-9+/]+=*$/, 'standard base64 like App Service');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as ClientPrincipalDocument;
}

test('X-MS-CLIENT-PRINCIPAL decodes to the App Service shape with Entra claim types', () => {
  const p = userPrincipal();
  const doc = decode(encodeClientPrincipal(p, 'aad'));
  assert.deepEqual(Object.keys(doc).sort(), ['auth_typ', 'claims', 'name_typ', 'role_typ']);
  assert.equal(doc.auth_typ, 'aad');
  assert.equal(doc.name_typ, 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
  assert.equal(doc.role_typ, ROLE);
  const vals = (typ: string): string[] => doc.claims.filter((c) => c.typ === typ).map((c) => c.val);
  assert.deepEqual(vals('http://schemas.microsoft.com/identity/claims/objectidentifier'), [p.claims.oid]);
  assert.deepEqual(vals('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier'), [p.subject]);
  assert.deepEqual(vals('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'), [
    'alice@example.com',
  ]);
  assert.deepEqual(vals('http://schemas.microsoft.com/identity/claims/tenantid'), [p.tenant]);
  assert.deepEqual(vals('http://schemas.microsoft.com/identity/claims/scope'), ['api.read']);
  assert.deepEqual(vals('name'), ['Alice Example']);
  assert.deepEqual(vals('preferred_username'), ['alice@example.com']);
  assert.deepEqual(
    vals('groups'),
    ['g-admins', 'g-finance', 'g-staff'],
    'one claim per group, as App Service sends them',
  );
  assert.deepEqual(vals(ROLE), ['Reader'], 'roles under role_typ so IsInRole works');
  assert.deepEqual(vals('ver'), ['2.0']);
  assert.deepEqual(vals('dept'), ['{"name":"Finance","code":42}']);
  for (const c of doc.claims) assert.equal(typeof c.val, 'string', `${c.typ} val must be a string`);
  assert.equal(
    new Set(doc.claims.map((c) => `${c.typ}=${c.val}`)).size,
    doc.claims.length,
    'no duplicate claims',
  );
});

test('principal name and id follow App Service (oid for Entra, preferred_username for name)', () => {
  const p = userPrincipal();
  assert.equal(clientPrincipalId(p), p.claims.oid);
  assert.equal(clientPrincipalName(p), 'alice@example.com');
  const bare = userPrincipal({ email: undefined, name: undefined, claims: {} });
  assert.equal(clientPrincipalId(bare), bare.subject);
  assert.equal(clientPrincipalName(bare), bare.subject);
  const doc = decode(encodeClientPrincipal(bare, 'okta'));
  assert.equal(doc.auth_typ, 'okta');
  assert.equal(doc.name_typ, 'name');
});
