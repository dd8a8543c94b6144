import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdpKey } from '../helpers/idp-server.js';
import { only } from './helpers.js';
import { tokenDoctorFixture } from './token-fixture.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

let es: IdpKey;
const fx = tokenDoctorFixture(async (idp) => {
  es = await idp.addKey('ES256');
});
const { wd, check } = fx;

test('token.aud: expected vs actual audience', async () => {
  const { report } = await check(await fx.idp.token({ aud: 'api://someone-else', groups: ['admins'] }));
  const f = only(report, 'token.aud');
  assert.equal(f.severity, 'error');
  assert.equal(f.evidence, `expected one of: ${fx.idp.audience}\nactual:   api://someone-else`);
  assert.match(only(report, 'token.verify').what, /GH_TOKEN_AUDIENCE/);
});

test('token.alg: an ES256 token where only RS256 is allowed', async () => {
  const { report } = await check(await fx.idp.token({ groups: ['admins'] }, { key: es }));
  const f = only(report, 'token.alg');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /expected one of: RS256\nactual: +ES256/);
});

test('token.typ: a JWT-typed token where required_typ is at+jwt', async () => {
  const strict = wd.write('typ.yaml', {
    providers: { main: { issuer: fx.idp.issuer, audiences: [fx.idp.audience], required_typ: 'at+jwt' } },
  });
  const { report } = await check(await fx.idp.token({}, { header: { typ: 'JWT' } }), strict);
  const f = only(report, 'token.typ');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /expected: application\/at\+jwt\nactual: +"JWT"/);
});
