import { test } from 'node:test';
import assert from 'node:assert/strict';
import { only } from './helpers.js';
import { tokenDoctorFixture } from './token-fixture.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

const fx = tokenDoctorFixture();
const { check } = fx;

test('token.verify: a token that lines up verifies, names its provider, exit 0', async () => {
  const { run, report } = await check(await fx.idp.token({ groups: ['admins'] }));
  assert.equal(run.code, 0, run.stdout);
  assert.equal(only(report, 'token.provider').subject, 'providers.main');
  assert.equal(only(report, 'token.verify').severity, 'ok');
  assert.equal(only(report, 'token.claims').severity, 'ok');
});

test('token.iss: an issuer with a trailing slash is matched to its provider and named', async () => {
  const { run, report } = await check(await fx.idp.token({ iss: `${fx.idp.issuer}/`, groups: ['admins'] }));
  assert.equal(run.code, 1);
  const f = only(report, 'token.iss');
  assert.equal(f.subject, 'providers.main');
  assert.match(f.what, /trailing slash/);
  assert.match(f.evidence ?? '', new RegExp(`expected: "${fx.idp.issuer}"\\nactual: +"${fx.idp.issuer}/"`));
  assert.equal(only(report, 'token.verify').severity, 'error');
});

test('token.provider: an issuer no provider is near is named with the configured issuers', async () => {
  const { report } = await check(await fx.idp.token({ iss: 'https://login.example.net/tenant' }));
  const f = only(report, 'token.provider');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /main: ".*"\nother: "https:\/\/idp\.other\.example"/);
});
