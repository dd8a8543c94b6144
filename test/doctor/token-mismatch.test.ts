import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpKey, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, workdir } from './helpers.js';

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
