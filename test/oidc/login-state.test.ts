import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRing } from '../../src/session/keyring.js';
import { LoginStateCodec, stateId } from '../../src/oidc/state.js';
import { isGatehouseError } from '../../src/errors/index.js';

const OLD = 'old-secret-0123456789abcdef-0123456789';
const NEW = 'new-secret-0123456789abcdef-0123456789';

test('login state is sealed, bound to its state, and survives secret rotation', async () => {
  const before = new LoginStateCodec(KeyRing.fromSecrets([OLD]), 'gh-state-');
  const a = await before.create('/back?x=1');
  assert.equal(a.cookieName, `gh-state-${stateId(a.state)}`);
  for (const secret of [a.state, a.nonce, a.verifier, 'back'])
    assert.ok(!a.cookieValue.includes(secret), 'nothing readable');
  const rotated = new LoginStateCodec(KeyRing.fromSecrets([NEW, OLD]), 'gh-state-');
  const opened = await rotated.open(a.cookieValue, a.state);
  assert.deepEqual(opened, { state: a.state, nonce: a.nonce, verifier: a.verifier, returnTo: '/back?x=1' });
  await assert.rejects(rotated.open(a.cookieValue, 'other-state'), (e) =>
    isGatehouseError(e, 'GH_LOGIN_STATE_INVALID'),
  );
  const dropped = new LoginStateCodec(KeyRing.fromSecrets([NEW]), 'gh-state-');
  await assert.rejects(dropped.open(a.cookieValue, a.state), (e) =>
    isGatehouseError(e, 'GH_LOGIN_STATE_INVALID'),
  );
});

test('a sealed value for another purpose is not accepted as login state', async () => {
  const keys = KeyRing.fromSecrets([NEW]);
  const forged = await keys.seal({ s: 'st', n: 'n', v: 'v', r: '/' }, 'gatehouse.session-tokens.v1', 600);
  await assert.rejects(new LoginStateCodec(keys, 'gh-state-').open(forged, 'st'), (e) =>
    isGatehouseError(e, 'GH_LOGIN_STATE_INVALID'),
  );
  const expired = await keys.seal({ s: 'st', n: 'n', v: 'v', r: '/' }, 'gatehouse.login-state.v1', -1);
  await assert.rejects(new LoginStateCodec(keys, 'gh-state-').open(expired, 'st'), (e) =>
    isGatehouseError(e, 'GH_LOGIN_STATE_INVALID'),
  );
});
