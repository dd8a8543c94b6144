import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startDevProvider } from '../../src/dev/provider.js';
import { startDemoApp } from '../../src/dev/demo-app.js';
import { clientFor, ssoConfig, SECRET } from '../oidc/fixture.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';

const CHROMIUM = '/usr/bin/chromium';

test('headless Chromium signs in through the real pages and sees the demo app greeting', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is required by this test: install chromium with "apt-get install -y chromium" (or run bash .ci/run)`,
    );
  const port = await freePort();
  const app = await startDemoApp({ port: 0 });
  const idp = await startDevProvider({
    clients: [clientFor([port])],
    logger: { warn: () => undefined, info: () => undefined, error: () => undefined },
  });
  const config = ssoConfig(port, idp.issuer, app.url);
  const gw = await startGatehouse(config, { env: { TEST_SESSION_SECRET: SECRET } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${gw.url}/`);
    assert.ok(page.url().startsWith(idp.issuer), `redirected to the IdP, at ${page.url()}`);
    await page.fill('input[name=login]', 'alice');
    await page.fill('input[name=password]', 'alice-dev-password');
    await Promise.all([page.waitForURL(`${gw.url}/`), page.click('button[type=submit]')]);
    const greeting = await page.textContent('main');
    assert.match(greeting ?? '', /Hello, alice!/);
    assert.match(greeting ?? '', /alice@contoso\.example/);
    const cookies = await page.context().cookies(gw.url);
    const session = cookies.find((c) => c.name === 'gatehouse_session');
    assert.ok(session?.httpOnly, 'HttpOnly session cookie');
    assert.equal(session?.sameSite, 'Lax');
    assert.equal(await page.evaluate('document.cookie'), '', 'scripts cannot read Gatehouse cookies');

    await page.goto(`${gw.url}/.gatehouse/logout`);
    assert.ok(page.url().startsWith(idp.issuer), 'RP-initiated logout continues at the IdP');
    await Promise.all([
      page.waitForURL((u) => u.href.includes('/interaction/')),
      page.click('button[value=yes]'),
    ]);
    assert.ok(await page.isVisible('input[name=password]'), 'signed out everywhere: back at the login form');
  } finally {
    await browser.close();
    await gw.close();
    await idp.close();
    await app.close();
  }
});
