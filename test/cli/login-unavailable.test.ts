import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse } from '../helpers/gatehouse.js';
import { startUpstream } from '../helpers/upstream.js';
import { freePort } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { SECRET, clientFor, ssoConfig } from '../oidc/fixture.js';
import { startDevProvider } from '../../src/dev/provider.js';
import { waitFor } from '../helpers/ports.js';

test('login provider down at start: the gateway serves, sign-in answers 503 with Retry-After, readiness names the provider; all recover when it comes up', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const idpPort = await freePort();
  const deadIdp = `http://127.0.0.1:${idpPort}`;
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
    assert.equal(login.headers['retry-after'], '5', 'clients are told when to try again');
    const ready = await send(gw.url, '/.gatehouse/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json().missing, [
      { kind: 'jwks', provider: 'dev' },
      { kind: 'login', provider: 'dev' },
    ]);
    assert.equal((await send(gw.url, '/.gatehouse/health')).status, 200);

    // The IdP comes up on its address: discovery and JWKS are retried with backoff, no restart.
    const idp = await startDevProvider({ port: idpPort, clients: [clientFor([port])], logger: quiet });
    try {
      await waitFor(async () => (await send(gw.url, '/.gatehouse/ready')).status === 200, 90_000, 'ready');
      const again = await send(gw.url, '/.gatehouse/login?rd=/');
      assert.equal(again.status, 302, 'sign-in works again');
      assert.ok(String(again.headers.location).startsWith(`${deadIdp}/`), 'redirected to the IdP');
    } finally {
      await idp.close();
    }
  } finally {
    await gw.close();
    await up.close();
  }
});

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
