import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startIdp } from '../helpers/idp-server.js';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';

const CHROMIUM = '/usr/bin/chromium';

test('headless Chromium: the 403 page names the group and the request id, and a hostile name stays text', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is required by this test: install chromium (apt-get install -y chromium)`);
  const idp = await startIdp();
  const upstream = await startUpstream();
  const gw = await startGatehouse({
    providers: { main: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } },
    upstreams: { app: { url: upstream.url } },
    routes: [
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'bearer',
        rules: [{ effect: 'allow', when: { group: 'admins' } }],
      },
    ],
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const name = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const token = await idp.token({ sub: 'mallory', name, groups: ['eng'] });
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}` } });
    const page = await context.newPage();
    const res = await page.goto(`${gw.url}/admin/users`);
    assert.equal(res?.status(), 403);
    assert.equal(await page.title(), 'Access denied · Gatehouse');
    const text = await page.locator('main').innerText();
    assert.match(text, /This page needs membership of group admins\./);
    assert.ok(text.includes(`You are signed in as ${name}.`), 'the name is shown as text');
    assert.ok(text.includes((await res?.headerValue('x-request-id')) as string), 'the request id is shown');
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined', 'no script from the claim ran');
    assert.equal(
      await page.locator('main img:not(.logo), main script').count(),
      0,
      'no element from the claim',
    );
  } finally {
    await browser.close();
    await gw.close();
    await upstream.close();
    await idp.close();
  }
});
