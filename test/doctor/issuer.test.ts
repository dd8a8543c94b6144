import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseIssuer, entraIssuer } from '../../src/doctor/issuer.js';

// The issuer-difference cases named by provider.issuer and token.iss (the trailing slash, Entra
// v1/v2 and tenant-name cases are also tested end to end in provider.test.ts and token.test.ts).

const K = 'providers.corp.issuer';

test('letter case and scheme differences are named as such', () => {
  const c = diagnoseIssuer(
    'https://Login.Example.com/realms/Corp',
    'https://login.example.com/realms/corp',
    K,
  );
  assert.equal(c.kind, 'letter_case');
  const s = diagnoseIssuer(
    'http://keycloak.example.com/realms/corp',
    'https://keycloak.example.com/realms/corp',
    K,
  );
  assert.equal(s.kind, 'scheme');
  assert.match(s.fix, /KC_HOSTNAME/);
});

test('Entra ID: another tenant is not a tenant-name case', () => {
  const d = diagnoseIssuer(
    'https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0',
    'https://login.microsoftonline.com/22222222-2222-2222-2222-222222222222/v2.0',
    K,
  );
  assert.equal(d.kind, 'entra_tenant');
  assert.match(d.label, /another Entra ID tenant/);
});

test('Entra ID issuers are recognised with their version and tenant', () => {
  assert.deepEqual(entraIssuer('https://sts.windows.net/abc/'), { version: 'v1', tenant: 'abc' });
  assert.deepEqual(entraIssuer('https://login.microsoftonline.com/abc/v2.0'), {
    version: 'v2',
    tenant: 'abc',
  });
  assert.equal(entraIssuer('https://login.example.com/abc/v2.0'), undefined);
});

test('anything else is another issuer, with the value to set', () => {
  const d = diagnoseIssuer('https://a.example.com', 'https://b.example.com', K);
  assert.equal(d.kind, 'other');
  assert.match(d.fix, /set providers\.corp\.issuer: "https:\/\/b\.example\.com"/);
});
