import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { chromium } from 'playwright-core';
import { runDev } from '../../src/cli/dev.js';

const CHROMIUM = '/usr/bin/chromium';

function sink(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

test('headless Chromium on the gatehouse dev demo: one sign-in for intranet.localhost and payroll.localhost, one sign-out for both, a signed-out page', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is required by this test: install chromium (apt-get install -y chromium)`);
  const out = sink();
  const err = sink();
  const ac = new AbortController();
  let intranet = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const exit = runDev(
    ['--port', '0'],
    { stdout: out.stream, stderr: err.stream },
    {
      signal: ac.signal,
      onReady: (u) => {
        intranet = u;
        markReady();
      },
    },
  );
  void exit.then(() => markReady());
  await ready;
  assert.match(intranet, /^http:\/\/intranet\.localhost:\d+$/, `stderr: ${err.text()}`);
  const port = new URL(intranet).port;
  const payroll = `http://payroll.localhost:${port}`;
  const login = `http://login.localhost:${port}`;
  const issuer = /Identity provider: (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text())?.[1] as string;
  assert.ok(issuer, out.text());

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--host-resolver-rules=MAP *.localhost 127.0.0.1',
      '--disable-gpu',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    let authorizations = 0;
    page.on('request', (r) => {
      if (r.url().startsWith(`${issuer}/auth?`)) authorizations++;
    });

    await page.goto(`${intranet}/`);
    assert.ok(page.url().startsWith(issuer), `at the IdP: ${page.url()}`);
    await page.fill('input[name=login]', 'alice');
    await page.fill('input[name=password]', 'alice-dev-password');
    await Promise.all([page.waitForURL(`${intranet}/`), page.click('button[type=submit]')]);
    assert.match((await page.textContent('main')) ?? '', /Hello, alice!/);
    assert.equal(authorizations, 1);

    await page.click('a:text("Payroll")');
    await page.waitForURL(`${payroll}/`);
    assert.match((await page.textContent('h1')) ?? '', /Contoso Payroll/);
    assert.match((await page.textContent('main')) ?? '', /Hello, alice!/);
    assert.equal(authorizations, 1, 'payroll opened without a second authorization request');

    const cookie = async (origin: string) =>
      (await context.cookies(origin)).find(
        (c) => c.name === 'gatehouse_session' && c.domain === new URL(origin).hostname,
      );
    const [a, b, l] = [await cookie(intranet), await cookie(payroll), await cookie(login)];
    assert.ok(a?.httpOnly && b?.httpOnly && l?.httpOnly, 'HttpOnly session cookies on all three hosts');
    assert.equal(new Set([a?.value, b?.value, l?.value]).size, 3, 'a session of its own on every host');
    assert.equal(await page.evaluate('document.cookie'), '', 'scripts cannot read Gatehouse cookies');

    await page.click('a:text("Sign out")');
    await page.waitForURL((u) => u.href.startsWith(issuer));
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(`${login}/.gatehouse/signed-out`)),
      page.click('button[value=yes]'),
    ]);
    assert.match((await page.textContent('h1')) ?? '', /You are signed out/);
    assert.equal(await page.getAttribute('a:text("Sign in again")', 'href'), `${payroll}/`);
    assert.equal(await cookie(payroll), undefined, 'payroll cookie cleared');

    await page.goto(`${intranet}/`);
    assert.ok(page.url().startsWith(issuer), `intranet needs a new sign-in: ${page.url()}`);
    assert.ok(await page.isVisible('input[name=password]'), 'the IdP asks for the password again');
    assert.equal(authorizations, 2);
  } finally {
    await browser.close();
    ac.abort();
  }
  assert.equal(await exit, 0);
});
