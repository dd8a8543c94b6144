import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse } from '../helpers/gatehouse.js';
import { startUpstream } from '../helpers/upstream.js';
import { freePort } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { SECRET, ssoConfig } from '../oidc/fixture.js';

test('login provider down at start: the gateway serves, sign-in answers 503, readiness names the provider', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const deadIdp = `http://127.0.0.1:${await freePort()}`;
  const config = ssoConfig(port, deadIdp, up.url);
  config.routes = [
    { name: 'pub', match: { path: '/pub' }, upstream: 'app', auth: 'none' },
    ...(config.routes as unknown[]),
  ];
  const gw = await startGatehouse(config, { env: { TEST_SESSION_SECRET: SECRET } });
  try {
    assert.equal((await send(gw.url, '/pub')).status, 200, 'public routes serve');
    const login = await send(gw.url, '/.gatehouse/login?rd=/', { headers: { accept: 'application/json' } });
    assert.equal(login.status, 503);
    assert.equal(login.json().error, 'GH_LOGIN_IDP_UNAVAILABLE');
    const ready = await send(gw.url, '/.gatehouse/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json().missing, [
      { kind: 'jwks', provider: 'dev' },
      { kind: 'login', provider: 'dev' },
    ]);
    assert.equal((await send(gw.url, '/.gatehouse/health')).status, 200);
  } finally {
    await gw.close();
    await up.close();
  }
});
