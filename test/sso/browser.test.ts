import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
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

interface Demo {
  readonly intranet: string;
  readonly payroll: string;
  readonly login: string;
  readonly issuer: string;
  readonly page: Page;
  readonly context: BrowserContext;
  /** Authorization requests the browser sent to the IdP so far. */
  authorizations(): number;
}

/** Runs `fn` against `gatehouse dev --port 0` and a fresh headless Chromium; stops both. */
async function withDemo(fn: (d: Demo) => Promise<void>): Promise<void> {
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
    await fn({
      intranet,
      payroll: `http://payroll.localhost:${port}`,
      login: `http://login.localhost:${port}`,
      issuer,
      page,
      context,
      authorizations: () => authorizations,
    });
  } finally {
    await browser.close();
    ac.abort();
  }
  assert.equal(await exit, 0);
}

/** Signs alice in on intranet through the IdP's form, then opens payroll from the intranet's menu. */
async function signInBoth(d: Demo): Promise<void> {
  const { page } = d;
  await page.goto(`${d.intranet}/`);
  assert.ok(page.url().startsWith(d.issuer), `at the IdP: ${page.url()}`);
  await page.fill('input[name=login]', 'alice');
  await page.fill('input[name=password]', 'alice-dev-password');
  await Promise.all([page.waitForURL(`${d.intranet}/`), page.click('button[type=submit]')]);
  assert.match((await page.textContent('main')) ?? '', /Hello, alice!/);
  await page.click('a:text("Payroll")');
  await page.waitForURL(`${d.payroll}/`);
  assert.match((await page.textContent('h1')) ?? '', /Contoso Payroll/);
  assert.match((await page.textContent('main')) ?? '', /Hello, alice!/);
}

test('headless Chromium on the gatehouse dev demo: one sign-in for intranet.localhost and payroll.localhost, one sign-out for both, a signed-out page', () =>
  withDemo(async (d) => {
    const { page, context, intranet, payroll, login, issuer } = d;
    await signInBoth(d);
    assert.equal(d.authorizations(), 1, 'payroll opened without a second authorization request');

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
    assert.equal(d.authorizations(), 2);
  }));

test('headless Chromium: signing out at the identity provider itself ends both hosts (back-channel logout)', () =>
  withDemo(async (d) => {
    const { page, intranet, payroll, issuer } = d;
    await signInBoth(d);
    const md = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      end_session_endpoint: string;
    };
    // Logout started at the IdP (no Gatehouse page involved): the IdP calls Gatehouse's
    // back-channel logout URI for the session, which ends the global session.
    await page.goto(md.end_session_endpoint);
    await Promise.all([page.waitForLoadState('load'), page.click('button[value=yes]')]);
    for (const host of [payroll, intranet]) {
      await page.goto(`${host}/`);
      assert.ok(page.url().startsWith(issuer), `${host} needs a new sign-in: ${page.url()}`);
      assert.ok(await page.isVisible('input[name=password]'), "await page.isVisible('input[name=password]')");
    }
  }));
