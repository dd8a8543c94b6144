import { test } from 'node:test';
import assert from 'node:assert/strict';
import { only } from './helpers.js';
import { tokenDoctorFixture } from './token-fixture.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

const fx = tokenDoctorFixture();
const { wd, check } = fx;

test('token.groups_overage: an Entra token with _claim_names instead of groups', async () => {
  const entra = wd.write('entra.yaml', {
    providers: { entra: { issuer: fx.idp.issuer, preset: 'entra', audiences: [fx.idp.audience] } },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    routes: [
      {
        match: { path: '/' },
        upstream: 'app',
        auth: 'bearer',
        rules: [{ effect: 'allow', when: { group: 'a1b2c3d4-0000-0000-0000-000000000001' } }],
      },
    ],
  });
  const token = await fx.idp.token({
    oid: 'u-1',
    tid: 't-1',
    scp: 'access',
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/u-1/getMemberObjects' } },
  });
  const { report } = await check(token, entra);
  const f = only(report, 'token.groups_overage');
  assert.equal(f.severity, 'error');
  assert.match(
    f.evidence ?? '',
    /_claim_names: \{"groups":"src1"\}; rules read groups: routes\[0\]\/rules\[0\]/,
  );
  assert.match(f.fix ?? '', /groupMembershipClaims/);
});

test('token.format: three parts that are not a JWT', async () => {
  const { report } = await check('eyJub3QiOiJqc29uIn0.e30x.c2ln');
  const f = only(report, 'token.format');
  assert.equal(f.severity, 'error');
  assert.equal(only(report, 'token.verify').severity, 'error');
});
