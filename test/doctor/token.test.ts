import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpKey, type IdpServer } from '../helpers/idp-server.js';
import { doctor, doctorJson, only, startOpenIdServer, workdir } from './helpers.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

let idp: IdpServer;
let es: IdpKey;
const wd = workdir();
let cfg: string;

before(async () => {
  idp = await startIdp();
  es = await idp.addKey('ES256');
  cfg = wd.write('gatehouse.yaml', {
    providers: {
      main: {
        issuer: idp.issuer,
        audiences: [idp.audience],
        algorithms: ['RS256'],
        max_token_lifetime: '24h',
      },
      other: { issuer: 'https://idp.other.example', audiences: ['x'], jwks_uri: `${idp.origin}/jwks` },
    },
    upstreams: { app: { url: 'http://127.0.0.1:9' } },
    routes: [
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'bearer',
        providers: ['main'],
        rules: [{ name: 'admins', effect: 'allow', when: { group: 'admins' } }],
      },
    ],
  });
});
after(async () => {
  await idp.close();
  wd.cleanup();
});

const check = (token: string, file = cfg) => doctorJson(['-c', file, '--only', 'token', '--token', token]);
const now = () => Math.floor(Date.now() / 1000);

test('token.verify: a token that lines up verifies, names its provider, exit 0', async () => {
  const { run, report } = await check(await idp.token({ groups: ['admins'] }));
  assert.equal(run.code, 0, run.stdout);
  assert.equal(only(report, 'token.provider').subject, 'providers.main');
  assert.equal(only(report, 'token.verify').severity, 'ok');
  assert.equal(only(report, 'token.claims').severity, 'ok');
});

test('token.iss: an issuer with a trailing slash is matched to its provider and named', async () => {
  const { run, report } = await check(await idp.token({ iss: `${idp.issuer}/`, groups: ['admins'] }));
  assert.equal(run.code, 1);
  const f = only(report, 'token.iss');
  assert.equal(f.subject, 'providers.main');
  assert.match(f.what, /trailing slash/);
  assert.match(f.evidence ?? '', new RegExp(`expected: "${idp.issuer}"\\nactual: +"${idp.issuer}/"`));
  assert.equal(only(report, 'token.verify').severity, 'error');
});

test('token.provider: an issuer no provider is near is named with the configured issuers', async () => {
  const { report } = await check(await idp.token({ iss: 'https://login.example.net/tenant' }));
  const f = only(report, 'token.provider');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /main: ".*"\nother: "https:\/\/idp\.other\.example"/);
});

test('token.aud: expected vs actual audience', async () => {
  const { report } = await check(await idp.token({ aud: 'api://someone-else', groups: ['admins'] }));
  const f = only(report, 'token.aud');
  assert.equal(f.severity, 'error');
  assert.equal(f.evidence, `expected one of: ${idp.audience}\nactual:   api://someone-else`);
  assert.match(only(report, 'token.verify').what, /GH_TOKEN_AUDIENCE/);
});

test('token.alg: an ES256 token where only RS256 is allowed', async () => {
  const { report } = await check(await idp.token({ groups: ['admins'] }, { key: es }));
  const f = only(report, 'token.alg');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /expected one of: RS256\nactual: +ES256/);
});

test('token.typ: a JWT-typed token where required_typ is at+jwt', async () => {
  const strict = wd.write('typ.yaml', {
    providers: { main: { issuer: idp.issuer, audiences: [idp.audience], required_typ: 'at+jwt' } },
  });
  const { report } = await check(await idp.token({}, { header: { typ: 'JWT' } }), strict);
  const f = only(report, 'token.typ');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /expected: application\/at\+jwt\nactual: +"JWT"/);
});

test('token.exp: an expired token says how long ago, and points at the clock', async () => {
  const t = now();
  const { report } = await check(await idp.token({ iat: t - 7200, exp: t - 3600, groups: ['admins'] }));
  const f = only(report, 'token.exp');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /expired 1 h ago/);
  assert.match(f.fix ?? '', /clock/);
});

test('token.lifetime: a 30 h token against max_token_lifetime 24h', async () => {
  const t = now();
  const { report } = await check(
    await idp.token({ iat: t - 60, exp: t + 30 * 3600 - 60, groups: ['admins'] }),
  );
  const f = only(report, 'token.lifetime');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /max_token_lifetime 86400 s/);
  assert.match(f.fix ?? '', /max_token_lifetime to 30h/);
});

test('token.claims: no groups claim while the route rule reads groups', async () => {
  const { run, report } = await check(await idp.token({}));
  assert.equal(run.code, 0, 'a warning: the token verifies, the rule will refuse it');
  const f = only(report, 'token.claims');
  assert.equal(f.severity, 'warning');
  assert.match(f.what, /no groups \(read from groups\)/);
  assert.match(f.evidence ?? '', /admin\/admins/);
});

test('token.groups_overage: an Entra token with _claim_names instead of groups', async () => {
  const entra = wd.write('entra.yaml', {
    providers: { entra: { issuer: idp.issuer, preset: 'entra', audiences: [idp.audience] } },
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
  const token = await idp.token({
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

test('--token - reads the token from stdin (never printed); --problems prints errors and warnings only', async () => {
  const token = await idp.token({ aud: 'api://nope' });
  const run = await doctor(['-c', cfg, '--only', 'token', '--problems', '--token', '-'], {
    stdin: `${token}\n`,
  });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /✗ error +token\.aud +providers\.main/);
  assert.ok(!run.stdout.includes('✓ ok'), '--problems leaves ok findings out');
  assert.match(run.stdout, /\n2 errors, 1 warning, [1-9] ok\n$/);
  assert.ok(!run.stdout.includes(token.split('.')[2] as string));
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
