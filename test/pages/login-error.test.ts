import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevProvider } from '../../src/dev/provider.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream } from '../helpers/upstream.js';
import { clientFor, ssoConfig, SECRET } from '../oidc/fixture.js';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

test("a failed sign-in renders through the operator's error template, with hint and retry link", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-login-error-'));
  writeFileSync(
    join(dir, 'error.html'),
    '<h1 id="t">{{title}}</h1><p id="m">{{message}}</p><p id="h">{{hint}}</p><a id="retry" href="{{retry_url}}">again</a><i>{{code}} {{request_id}}</i>',
  );
  const port = await freePort();
  const up = await startUpstream();
  const idp = await startDevProvider({ clients: [clientFor([port])], logger: quiet });
  const gw = await startGatehouse(
    { ...ssoConfig(port, idp.issuer, up.url), pages: { templates_dir: dir } },
    { env: { TEST_SESSION_SECRET: SECRET }, baseDir: dir },
  );
  try {
    const r = await fetch(`${gw.url}/.gatehouse/callback?code=abc`, { headers: { accept: 'text/html' } });
    const body = await r.text();
    assert.equal(r.status, 400);
    assert.match(body, /<h1 id="t">Sign-in failed<\/h1>/);
    assert.match(body, /<p id="h">Sign-in attempts expire after 10 minutes/);
    assert.match(body, /<a id="retry" href="\/\.gatehouse\/login\?rd=%2F">again<\/a>/);
    assert.match(body, new RegExp(`<i>GH_LOGIN_STATE_MISSING ${r.headers.get('x-request-id')}</i>`));
  } finally {
    await gw.close();
    await idp.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
