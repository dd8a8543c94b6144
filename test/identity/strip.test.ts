import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALWAYS_STRIPPED,
  isStripped,
  normalizeHeaderName,
  stripForgedHeaders,
} from '../../src/identity/strip.js';

const none: ReadonlySet<string> = new Set();

test('normalizeHeaderName folds case and maps "_" to "-" like IIS/CGI server variables', () => {
  assert.equal(normalizeHeaderName('X_Remote_User'), 'x-remote-user');
  assert.equal(normalizeHeaderName('X-REMOTE-USER'), 'x-remote-user');
  assert.equal(normalizeHeaderName('x-remote_user'), 'x-remote-user');
  assert.equal(normalizeHeaderName('Accept'), 'accept');
});

test('every spelling of a forged identity header is stripped', () => {
  const variants = [
    'X-Remote-User',
    'x-remote-user',
    'X-REMOTE-USER',
    'X_Remote_User',
    'x_remote-USER',
    'Remote-User',
    'REMOTE_USER',
    'X-Forwarded-User',
    'x_forwarded_email',
    'X-Forwarded-Groups',
    'X-Ms-Client-Principal',
    'X_MS_CLIENT_PRINCIPAL',
    'x-ms-client-principal-name',
    'X-MS-CLIENT-PRINCIPAL-ID',
    'X-MS-CLIENT-PRINCIPAL-IDP',
    'X-MS-TOKEN-AAD-ACCESS-TOKEN',
    'x_ms_token_google_id_token',
    'X-Gatehouse-Assertion',
    'X_GATEHOUSE_ANYTHING',
    'X-Auth-Request-User',
    'x-auth-request-access-token',
    'X-Client-Cert-Subject',
    'X_CLIENT_CERT',
    'X-SSL-Client-Verify',
    'X-ARR-ClientCert',
    'X-Forwarded-Client-Cert',
  ];
  for (const v of variants) assert.ok(isStripped(normalizeHeaderName(v), none), v);
});

test('ordinary headers pass, and a route adds its own configured names', () => {
  for (const v of [
    'Accept',
    'X-Request-Id',
    'Authorization',
    'Cookie',
    'X-Forwarded-Proto',
    'X-Tenant',
    'User-Agent',
  ]) {
    assert.equal(isStripped(normalizeHeaderName(v), none), false, v);
  }
  const route = new Set([normalizeHeaderName('X-Tenant'), normalizeHeaderName('X_App_Role')]);
  assert.ok(
    isStripped(normalizeHeaderName('x_tenant'), route),
    "isStripped(normalizeHeaderName('x_tenant'), route)",
  );
  assert.ok(
    isStripped(normalizeHeaderName('X-APP-ROLE'), route),
    "isStripped(normalizeHeaderName('X-APP-ROLE'), route)",
  );
});

test('ALWAYS_STRIPPED holds only normalised names', () => {
  for (const n of ALWAYS_STRIPPED) assert.equal(normalizeHeaderName(n), n);
});

test('stripForgedHeaders keeps order and values, reports original spellings', () => {
  const raw = [
    'Host',
    'app',
    'X_Remote_User',
    'admin',
    'Accept',
    '*/*',
    'x-remote-user',
    'root',
    'X-MS-CLIENT-PRINCIPAL',
    'e30=',
    'X-Tenant',
    't1',
  ];
  const { kept, stripped } = stripForgedHeaders(raw, new Set(['x-tenant']));
  assert.deepEqual(kept, ['Host', 'app', 'Accept', '*/*']);
  assert.deepEqual(stripped, ['X_Remote_User', 'x-remote-user', 'X-MS-CLIENT-PRINCIPAL', 'X-Tenant']);
});
