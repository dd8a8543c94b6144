import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { chromium, type Page } from 'playwright-core';
import { runDev } from '../../src/cli/dev.js';
import { ensureConsoleBuilt, SHOTS, shot } from './console-demo.js';

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

/** Polls `expr` in the page (DevTools protocol: allowed by the console's CSP) until truthy. */
async function until<T>(page: Page, expr: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await page.evaluate<T>(expr);
    if (v) return v;
    if (Date.now() > end) throw new Error(`not true within ${ms} ms: ${expr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Background traffic for the charts, spread over `ms`: every 250 ms one request to the proxy on
 * loopback with a demo host name and the given cookie (allowed pages, refused pages,
 * anonymous API calls).
 */
async function traffic(
  port: string,
  sessions: { host: string; path: string; cookie: string }[],
  ms: number,
): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    const s = sessions[n++ % sessions.length] as { host: string; path: string; cookie: string };
    await new Promise<void>((done) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(port),
          path: s.path,
          headers: { host: `${s.host}:${port}`, cookie: s.cookie, accept: 'application/json' },
        },
        (res) => res.resume().on('end', done),
      );
      req.on('error', () => done());
      req.end();
    });
    await new Promise((r) => setTimeout(r, 250));
  }
  return n;
}

/** Signs `user` in at the IdP's form the page was sent to; waits until back at `origin`. */
async function atIdp(page: Page, issuer: string, user: string, origin: string): Promise<void> {
  assert.ok(page.url().startsWith(issuer), `at the IdP: ${page.url()}`);
  await page.fill('input[name=login]', user);
  await page.fill('input[name=password]', `${user}-dev-password`);
  await Promise.all([
    page.waitForURL((u) => u.origin === origin, { timeout: 60_000 }),
    page.click('button[type=submit]'),
  ]);
}

test(
  'gatehouse dev: the printed console URL, alice signed in once for the intranet and the console, the demo traffic in every section (the docs screenshots)',
  { timeout: 240_000 },
  async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is required by this test: install chromium (apt-get install -y chromium)`);
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
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
    const issuer = /Identity provider: (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text())?.[1] as string;
    const consoleUrl = /Admin console:\s+(http:\/\/login\.localhost:\d+\/)/.exec(out.text())?.[1] as string;
    assert.ok(issuer && consoleUrl, `the banner names the IdP and the console:\n${out.text()}`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--host-resolver-rules=MAP *.localhost 127.0.0.1',
        '--disable-gpu',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    const errors: string[] = [];
    try {
      const user = async (name: string) => {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${intranet}/`);
        await atIdp(page, issuer, name, intranet);
        return page;
      };
      // alice signs in on the intranet, then opens the console: no second sign-in.
      const admin = await user('alice');
      admin.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      admin.on('console', (m) => m.type() === 'error' && errors.push(`console.error: ${m.text()}`));
      await admin.goto(consoleUrl);
      assert.equal(admin.url(), consoleUrl, 'the console opens without another sign-in');
      await admin.waitForSelector('.conn.live', { timeout: 30_000 });
      assert.match(await admin.locator('header .me').innerText(), /alice@contoso\.example/);

      // Traffic of the demo users: bob reads the intranet and payroll and is refused /admin;
      // carol reads the intranet and is refused payroll (not in "staff").
      const bob = await user('bob');
      const carol = await user('carol');
      for (const p of ['/', '/api/whoami', '/.gatehouse/userinfo']) await bob.goto(`${intranet}${p}`);
      await bob.goto(`${payroll}/`);
      assert.equal((await bob.goto(`${intranet}/admin`))?.status(), 403);
      await carol.goto(`${intranet}/`);
      for (const p of ['/', '/api/whoami']) await alice(admin, intranet, p);
      // 20 seconds of mixed traffic, so the charts have a few 10-second steps to draw.
      const cookieOf = async (p: Page, host: string) =>
        (await p.context().cookies(`http://${host}:${port}`))
          .filter((c) => c.domain === host)
          .map((c) => `${c.name}=${c.value}`)
          .join('; ');
      const sent = await traffic(
        port,
        [
          { host: 'intranet.localhost', path: '/', cookie: await cookieOf(bob, 'intranet.localhost') },
          {
            host: 'intranet.localhost',
            path: '/api/whoami',
            cookie: await cookieOf(carol, 'intranet.localhost'),
          },
          { host: 'payroll.localhost', path: '/', cookie: await cookieOf(bob, 'payroll.localhost') },
          { host: 'intranet.localhost', path: '/admin', cookie: await cookieOf(bob, 'intranet.localhost') },
          { host: 'intranet.localhost', path: '/api/whoami', cookie: '' },
          { host: 'payroll.localhost', path: '/', cookie: await cookieOf(bob, 'payroll.localhost') },
        ],
        20_000,
      );
      assert.ok(sent > 10, `traffic sent: ${sent}`);
      const refused = await carol.goto(`${payroll}/`);
      assert.equal(refused?.status(), 403, 'payroll refuses carol');
      const id = (await refused?.headerValue('x-request-id')) as string;

      const row = admin.locator(`table.decisions tbody tr[data-id="${id}"]`);
      await row.waitFor({ timeout: 30_000 });
      const cells = await row.locator('td').allInnerTexts();
      assert.match(cells[2] ?? '', /carol@contoso\.example/);
      assert.equal(cells[4], 'payroll');
      assert.equal(cells[5], 'deny');
      await shot(admin, 'dev-live');
      await row.click();
      await until(admin, `/403/.test(document.querySelector('aside.panel .verdict')?.textContent ?? '')`);
      assert.match(await admin.locator('aside.panel').innerText(), /staff/, 'the explanation names the rule');
      await shot(admin, 'dev-explain');

      await admin.click('a.tab:text("Analytics")');
      await until(admin, `document.querySelectorAll('figure.chart canvas').length >= 6`);
      await admin.waitForTimeout(500);
      await shot(admin, 'dev-analytics');
      await admin.click('a.tab:text("Health")');
      await admin.waitForSelector('.card h3:text("Identity providers")');
      await shot(admin, 'dev-health');
      await admin.click('a.tab:text("Sessions & keys")');
      await admin.fill('input[name=user]', 'carol');
      await admin.click('button:text("Search")');
      await admin.waitForSelector('table.sessions tbody tr[data-session]', { timeout: 30_000 });
      await admin.click('button:text("Revoke all of carol")');
      await admin.waitForSelector('dialog.confirm');
      await shot(admin, 'dev-sessions');
      await admin.click('dialog.confirm button:text("Revoke all")');
      await admin.waitForSelector('.banner.ok:has-text("Revoked")', { timeout: 30_000 });
      // Her next page is a redirect to sign in (the IdP may then sign her in again by itself).
      const res = await carol.goto(`${intranet}/`);
      let first = res?.request();
      while (first?.redirectedFrom()) first = first.redirectedFrom() ?? undefined;
      assert.equal(first?.url(), `${intranet}/`);
      assert.equal((await first?.response())?.status(), 302, 'carol is sent to sign in');
      const to = first?.redirectedTo()?.url() ?? '';
      assert.ok(to.startsWith(issuer) || to.startsWith('http://login.localhost:'), `to the login: ${to}`);
      assert.deepEqual(errors, [], 'no page or console error in the console');
    } finally {
      await browser.close();
      ac.abort();
    }
    assert.equal(await exit, 0);
  },
);

/** One navigation of alice in a tab of her own browser (the console stays open in the first). */
async function alice(admin: Page, intranet: string, path: string): Promise<void> {
  const tab = await admin.context().newPage();
  await tab.goto(`${intranet}${path}`);
  await tab.close();
}
