import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, workdir } from './helpers.js';

// `gatehouse doctor --token`: one mismatch per test, tokens signed by a real JWKS server's keys.

let idp: IdpServer;
const wd = workdir();
let cfg: string;

before(async () => {
  idp = await startIdp();
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
