import { test } from 'node:test';
import assert from 'node:assert/strict';
import { only } from './helpers.js';
import { tokenDoctorFixture } from './token-fixture.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

const fx = tokenDoctorFixture();
const { check } = fx;

const now = () => Math.floor(Date.now() / 1000);

test('token.exp: an expired token says how long ago, and points at the clock', async () => {
  const t = now();
  const { report } = await check(await fx.idp.token({ iat: t - 7200, exp: t - 3600, groups: ['admins'] }));
  const f = only(report, 'token.exp');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /expired 1 h ago/);
  assert.match(f.fix ?? '', /clock/);
});

test('token.lifetime: a 30 h token against max_token_lifetime 24h', async () => {
  const t = now();
  const { report } = await check(
    await fx.idp.token({ iat: t - 60, exp: t + 30 * 3600 - 60, groups: ['admins'] }),
  );
  const f = only(report, 'token.lifetime');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /max_token_lifetime 86400 s/);
  assert.match(f.fix ?? '', /max_token_lifetime to 30h/);
});

test('token.claims: no groups claim while the route rule reads groups', async () => {
  const { run, report } = await check(await fx.idp.token({}));
  assert.equal(run.code, 0, 'a warning: the token verifies, the rule will refuse it');
  const f = only(report, 'token.claims');
  assert.equal(f.severity, 'warning');
  assert.match(f.what, /no groups \(read from groups\)/);
  assert.match(f.evidence ?? '', /admin\/admins/);
});
