import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKCHANNEL_EVENT, LogoutTokenVerifier } from '../../src/oidc/backchannel.js';
import { startFakeIdp, type FakeIdp } from './fake-idp.js';
import { isGatehouseError } from '../../src/errors/index.js';

let idp: FakeIdp;
let v: LogoutTokenVerifier;
before(async () => {
  idp = await startFakeIdp('rp');
  v = new LogoutTokenVerifier(`${idp.issuer}/jwks`, idp.issuer, 'rp', 5000);
});
after(() => idp.close());

const base = () => ({
  iss: idp.issuer,
  aud: 'rp',
  iat: Math.floor(Date.now() / 1000),
  jti: 'j',
  sid: 's1',
  sub: 'u1',
  events: { [BACKCHANNEL_EVENT]: {} },
});
const invalid = (e: unknown) => isGatehouseError(e, 'GH_BACKCHANNEL_LOGOUT_INVALID');

test('a valid logout token names the IdP session and user', async () => {
  assert.deepEqual(await v.verify(await idp.sign(base(), 'logout+jwt')), { sid: 's1', sub: 'u1', jti: 'j' });
  const { sid: _s, ...subOnly } = base();
  assert.deepEqual(await v.verify(await idp.sign(subOnly)), { sid: undefined, sub: 'u1', jti: 'j' });
});

test('logout tokens are refused without the event, with a nonce, without sid and sub, for another audience or issuer, or stale', async () => {
  const { events: _e, ...noEvents } = base();
  const { sid: _s, sub: _u, ...anonymous } = base();
  const cases: Array<[string, Record<string, unknown>]> = [
    ['no events', noEvents],
    ['other event', { ...base(), events: { 'http://example.com/other': {} } }],
    ['nonce (an ID token)', { ...base(), nonce: 'n' }],
    ['neither sid nor sub', anonymous],
    ['other audience', { ...base(), aud: 'someone-else' }],
    ['other issuer', { ...base(), iss: 'https://evil.example' }],
    ['issued an hour ago', { ...base(), iat: Math.floor(Date.now() / 1000) - 3600 }],
  ];
  for (const [what, claims] of cases) await assert.rejects(v.verify(await idp.sign(claims)), invalid, what);
  await assert.rejects(v.verify('a.b.c'), invalid);
});
