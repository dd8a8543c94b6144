import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doctor, doctorJson, only, startOpenIdServer } from './helpers.js';
import { tokenDoctorFixture } from './token-fixture.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

const fx = tokenDoctorFixture();
const { wd } = fx;

test('--token - reads the token from stdin (never printed); --problems prints errors and warnings only', async () => {
  const token = await fx.idp.token({ aud: 'api://nope' });
  const run = await doctor(['-c', fx.cfg, '--only', 'token', '--problems', '--token', '-'], {
    stdin: `${token}\n`,
  });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /✗ error +token\.aud +providers\.main/);
  assert.ok(!run.stdout.includes('✓ ok'), '--problems leaves ok findings out');
  assert.match(run.stdout, /\n2 errors, 1 warning, [1-9] ok\n$/);
  assert.ok(
    !run.stdout.includes(token.split('.')[2] as string),
    "!run.stdout.includes(token.split('.')[2] as string)",
  );
});

test('--client-credentials: the login client gets a token, which is then checked', async () => {
  const op = await startOpenIdServer({
    client: { id: 'gatehouse', secret: 's'.repeat(40), audience: 'api://intranet' },
  });
  try {
    const file = wd.write('cc.yaml', {
      server: { external_url: 'http://127.0.0.1:8080' },
      providers: { op: { issuer: op.origin, audiences: ['api://other'] } },
      session: {
        secrets: ['0123456789abcdef0123456789abcdef0123'],
        insecure_http_cookies: true,
        login: {
          provider: 'op',
          client_id: 'gatehouse',
          client_secret: 's'.repeat(40),
          insecure_allow_http: true,
        },
      },
    });
    const { report } = await doctorJson([
      '-c',
      file,
      '--only',
      'token',
      '--client-credentials',
      '--scope',
      'api://intranet/.default',
    ]);
    assert.equal(only(report, 'token.client_credentials').severity, 'ok');
    const aud = only(report, 'token.aud');
    assert.equal(aud.severity, 'error');
    assert.match(aud.evidence ?? '', /actual: +api:\/\/intranet/);
  } finally {
    await op.close();
  }
});

test('token.client_credentials: a wrong client secret is named', async () => {
  const op = await startOpenIdServer({
    client: { id: 'gatehouse', secret: 's'.repeat(40), audience: 'api://x' },
  });
  try {
    const file = wd.write('cc-bad.yaml', {
      server: { external_url: 'http://127.0.0.1:8080' },
      providers: { op: { issuer: op.origin, audiences: ['api://x'] } },
      session: {
        secrets: ['0123456789abcdef0123456789abcdef0123'],
        insecure_http_cookies: true,
        login: {
          provider: 'op',
          client_id: 'gatehouse',
          client_secret: 'w'.repeat(40),
          insecure_allow_http: true,
        },
      },
    });
    const { run, report } = await doctorJson(['-c', file, '--only', 'token', '--client-credentials']);
    assert.equal(run.code, 1);
    const f = only(report, 'token.client_credentials');
    assert.equal(f.severity, 'error');
    assert.match(f.evidence ?? '', /HTTP 401 invalid_client/);
    assert.match(f.fix ?? '', /client_secret/);
  } finally {
    await op.close();
  }
});

test('token.lifetime: tokens of the login provider that live no longer than session.refresh_before', async () => {
  const file = wd.write('refresh.yaml', {
    server: { external_url: 'http://127.0.0.1:8080' },
    providers: { main: { issuer: fx.idp.issuer, audiences: [fx.idp.audience] } },
    session: {
      secrets: ['0123456789abcdef0123456789abcdef0123'],
      insecure_http_cookies: true,
      refresh_before: '5m',
      login: {
        provider: 'main',
        client_id: 'gatehouse',
        client_secret: 's'.repeat(40),
        insecure_allow_http: true,
      },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  const token = await fx.idp.token({ iat: t, exp: t + 240 });
  const { run, report } = await doctorJson(['-c', file, '--only', 'token', '--token', token]);
  assert.equal(run.code, 0, 'a warning');
  const f = only(report, 'token.lifetime');
  assert.equal(f.severity, 'warning');
  assert.equal(f.evidence, 'token lifetime 4 min; session.refresh_before 5 min');
});
