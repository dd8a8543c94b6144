import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { shot, signIn, startConsoleDemo, type ConsoleDemo } from './console-demo.js';

// One Gatehouse (with its admin listener; admins: group `admins`, i.e. alice) and one Chromium
// for the whole file; the tests run in order and share the admin's signed-in console page.
let demo: ConsoleDemo;
let admin: Page;
/** What a browser sends when it opens a page (Gatehouse answers those with a login redirect, not 401). */
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
/** bob: a signed-in user whom the proxy's `/admin` refuses (not in "admins"). */
let bob: { context: BrowserContext; page: Page };

before(
  async () => {
    demo = await startConsoleDemo();
    const a = await demo.newPage(true);
    admin = a.page;
    await signIn(admin, demo.admin, demo.issuer, 'alice');
    await admin.waitForSelector('nav[aria-label="Console sections"]');
    bob = await demo.newPage();
    await signIn(bob.page, `${demo.proxy}/`, demo.issuer, 'bob');
    for (const p of ['/', '/reports/2026-11', '/team']) await bob.page.goto(`${demo.proxy}${p}`);
  },
  { timeout: 120_000 },
);

after(async () => {
  await demo?.close();
});

/**
 * Polls `expr` (evaluated in the page over the DevTools protocol, which the console's CSP allows;
 * `waitForFunction` would need `unsafe-eval`) until it is truthy; returns its value.
 */
async function until<T>(page: Page, expr: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await page.evaluate<T>(expr);
    if (v) return v;
    if (Date.now() > end) throw new Error(`not true within ${ms} ms: ${expr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Browser-side code is passed as strings: the project's TypeScript has no DOM library.
const ONLY_BOB_REFUSALS = `(() => {
  const rows = [...document.querySelectorAll('table.decisions tbody tr')];
  return rows.length > 0 && rows.every((r) => r.textContent.includes('bob') && r.className.includes('deny'));
})()`;
const VERDICT_403 = `/403/.test(document.querySelector('aside.panel .verdict')?.textContent ?? '')`;
const FOCUSED = `(() => {
  const e = document.activeElement;
  return { tag: e?.tagName ?? '', text: (e?.textContent ?? '').trim(), id: e?.getAttribute('data-id') ?? '' };
})()`;
const FOCUS_OUTLINE = `getComputedStyle(document.activeElement).outlineStyle`;
/** Inputs without a label and buttons without a name, in the current section. */
const UNLABELLED = `[
  ...[...document.querySelectorAll('input, select, textarea')]
    .filter((e) => !e.labels?.length && !e.getAttribute('aria-label'))
    .map((e) => e.tagName + ' ' + e.name),
  ...[...document.querySelectorAll('button, a[href]')]
    .filter((e) => !(e.getAttribute('aria-label') || e.textContent).trim())
    .map((e) => e.tagName + ' without a name'),
]`;
/** Visible text whose contrast with its background is under WCAG AA (4.5:1, large text 3:1). */
const LOW_CONTRAST = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr-only, .skip, dialog:not([open])')) continue;
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || el.getClientRects().length === 0) continue;
    const st = getComputedStyle(el);
    const a = lum(parse(st.color));
    const b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize);
    const large = size >= 24 || (size >= 18.6 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName + ' "' + el.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2));
  }
  return bad;
})()`;
/** Pixels of the "Request rate" series colour (#1d4ed8) on its canvas; 0 until there are some. */
const SERIES_PIXELS = `(() => {
  const fig = [...document.querySelectorAll('figure.chart')].find((f) =>
    f.querySelector('figcaption')?.textContent?.startsWith('Request rate'),
  );
  const canvas = fig?.querySelector('canvas');
  const g = canvas?.getContext('2d');
  if (!canvas || !g || canvas.width === 0) return 0;
  const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4)
    if (Math.abs(px[i] - 29) < 40 && Math.abs(px[i + 1] - 78) < 40 && px[i + 2] > 170 && px[i + 3] > 100) n++;
  return n > 8 ? n : 0;
})()`;

test('Live: a refused request appears in the stream with its reason, and its explanation opens', async () => {
  await admin.goto(`${demo.admin}#/live`);
  await admin.waitForSelector('.conn.live', { timeout: 30_000 });
  // bob opens /admin after the console is listening: the row arrives over the stream.
  const res = await bob.page.goto(`${demo.proxy}/admin/payroll-export`);
  assert.equal(res?.status(), 403, '/admin refuses bob');
  const refusedRequestId = await res?.headerValue('x-request-id');
  assert.ok(refusedRequestId, 'the refusal names its request id');
  const row = admin.locator(`table.decisions tbody tr[data-id="${refusedRequestId}"]`);
  await row.waitFor({ timeout: 30_000 });
  const cells = await row.locator('td').allInnerTexts();
  assert.match(cells.join(' | '), /bob/i);
  assert.match(cells.join(' | '), /\/admin\/payroll-export/);
  assert.equal(cells[5], 'deny');
  assert.equal(cells[7], '403');
  const reason = (cells[6] ?? '').trim();
  assert.match(reason, /^[A-Za-z_]+[.:_][\w.:-]+$/, `a reason code is shown: ${reason}`);
  assert.match(
    (await admin.locator('#stream-count').innerText()) ?? '',
    /\d+ decisions shown, [1-9]\d* refused/,
  );
  await shot(admin, 'live');

  // Filters: decision = deny and user = bob leave only bob's refusals.
  await admin.selectOption('select[name=decision]', 'deny');
  await admin.fill('input[name=user]', 'bob');
  await until(admin, ONLY_BOB_REFUSALS);
  await admin.locator(`table.decisions tbody tr[data-id="${refusedRequestId}"]`).click();
  const panel = admin.locator('aside.panel');
  await panel.waitFor();
  await until(admin, VERDICT_403);
  const text = await panel.innerText();
  assert.match(text, /deny\s+403/);
  assert.ok(text.includes(reason), `the explanation names the reason ${reason}`);
  assert.match(text, /Checks/);
  assert.ok(text.includes(refusedRequestId), 'the explanation is of that request');
  // Secrets are never shown: not bob's session cookie, not any cookie value.
  for (const c of await bob.context.cookies())
    assert.ok(!text.includes(c.value), `cookie ${c.name} not shown`);
  for (const c of await admin.context().cookies())
    assert.ok(!text.includes(c.value), `cookie ${c.name} not shown`);
  await shot(admin, 'explain');
  await admin.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
});

test('Keyboard: Tab reaches the section links, Enter follows them; Enter on a focused row opens its explanation', async () => {
  await admin.goto(`${demo.admin}#/live`);
  await admin.reload();
  await admin.waitForSelector('table.decisions tbody tr', { timeout: 30_000 });
  const focused = () => admin.evaluate<{ tag: string; text: string; id: string }>(FOCUSED);
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await admin.keyboard.press('Tab');
    const f = await focused();
    reached = f.tag === 'A' && f.text === 'Health';
  }
  assert.ok(reached, 'Tab reaches the "Health" section link');
  const outline = await admin.evaluate<string>(FOCUS_OUTLINE);
  assert.notEqual(outline, 'none', 'the focused link shows a focus ring');
  await admin.keyboard.press('Enter');
  await admin.waitForURL(/#\/health$/);
  assert.equal(await admin.getAttribute('a.tab[aria-current=page]', 'href'), '#/health');
  await admin.waitForSelector('h2:text("Health")');
  await shot(admin, 'health');

  await admin.goto(`${demo.admin}#/live`);
  await admin.waitForSelector('table.decisions tbody tr', { timeout: 30_000 });
  let row = '';
  for (let i = 0; i < 30 && !row; i++) {
    await admin.keyboard.press('Tab');
    const f = await focused();
    if (f.tag === 'TR') row = f.id;
  }
  assert.ok(row, 'Tab reaches a decision row');
  await admin.keyboard.press('Enter');
  await admin.waitForSelector('aside.panel');
  assert.ok(
    (await admin.locator('aside.panel').innerText()).includes(row),
    'the explanation of the focused row',
  );
  await admin.keyboard.press('Escape');
  await admin.waitForSelector('aside.panel', { state: 'detached' });
  await until(admin, `document.activeElement?.getAttribute('data-id') === ${JSON.stringify(row)}`, 10_000);
});

test('Analytics: the request-rate chart draws its series from the traffic', async () => {
  await admin.goto(`${demo.admin}#/analytics`);
  await admin.waitForSelector('.tiles', { timeout: 30_000 });
  const tile = await admin.locator('.tile', { hasText: 'requests' }).first().locator('.tile-v').innerText();
  assert.ok(Number(tile.replace(/,/g, '')) > 0, `requests counted: ${tile}`);
  const refused = await admin.locator('.tile', { hasText: 'refused' }).locator('.tile-v').innerText();
  assert.ok(Number(refused.replace(/,/g, '')) > 0, `refusals counted: ${refused}`);
  // The series colour of "Request rate" (#1d4ed8) is on its canvas: uPlot drew the data.
  const drawn = await until<number>(admin, SERIES_PIXELS);
  assert.ok(drawn > 8, 'series pixels on the canvas');
  const reasons = await admin.locator('table.small-table', { hasText: 'Top deny reasons' }).innerText();
  assert.doesNotMatch(reasons, /No refusals/, 'the top deny reasons list the refusal');
  await shot(admin, 'analytics');
});

test('Pause holds the table still and counts what arrives; Resume shows it', async () => {
  await admin.goto(`${demo.admin}#/live`);
  await admin.reload();
  await admin.waitForSelector('.conn.live', { timeout: 30_000 });
  await admin.click('button:text("Pause")');
  assert.equal(await admin.getAttribute('button[aria-pressed]', 'aria-pressed'), 'true');
  const ids: string[] = [];
  for (const p of ['/paused-1', '/paused-2']) {
    const r = await bob.page.goto(`${demo.proxy}${p}`);
    ids.push((await r?.headerValue('x-request-id')) as string);
  }
  // Two or more new (the browser may also ask for a favicon), none of them drawn.
  await until(
    admin,
    `Number(/\\((\\d+) new\\)/.exec(document.querySelector('button[aria-pressed=true]')?.textContent ?? '')?.[1] ?? 0) >= 2`,
  );
  for (const id of ids)
    assert.equal(await admin.locator(`tr[data-id="${id}"]`).count(), 0, 'not shown while paused');
  assert.match(await admin.locator('#stream-count').innerText(), /paused/);
  await admin.click('button[aria-pressed=true]');
  for (const id of ids) await admin.locator(`tr[data-id="${id}"]`).waitFor({ timeout: 30_000 });
});

test('Accessible: every input has a label, every control a name, text keeps AA contrast in every section', async () => {
  for (const section of ['live', 'analytics', 'health', 'sessions']) {
    await admin.goto(`${demo.admin}#/${section}`);
    await admin.waitForSelector(`a.tab[aria-current=page][href="#/${section}"]`);
    await until(admin, `!document.querySelector('main [role=status]')?.textContent?.includes('Loading')`);
    assert.deepEqual(await admin.evaluate<string[]>(UNLABELLED), [], `${section}: unlabelled controls`);
    assert.deepEqual(await admin.evaluate<string[]>(LOW_CONTRAST), [], `${section}: low-contrast text`);
  }
  await admin.goto(`${demo.admin}#/live`);
  assert.equal(
    await admin.getAttribute('#stream-count', 'aria-live'),
    'polite',
    'the stream count is announced',
  );
});

/** The status of a page navigation to the proxy's `/` with `ctx`'s cookies (no redirect followed). */
async function landing(ctx: BrowserContext): Promise<{ status: number; location: string }> {
  const r = await ctx.request.get(`${demo.proxy}/`, { maxRedirects: 0, headers: NAVIGATION });
  return { status: r.status(), location: r.headers()['location'] ?? '' };
}

/** bob's second browser: a second session of the same user. */
let bob2: { context: BrowserContext; page: Page };

test('Sessions: revoking one of two sessions (confirmed) signs out that browser only', async () => {
  bob2 = await demo.newPage();
  await signIn(bob2.page, `${demo.proxy}/`, demo.issuer, 'bob');
  assert.deepEqual([(await landing(bob.context)).status, (await landing(bob2.context)).status], [200, 200]);
  await admin.goto(`${demo.admin}#/sessions`);
  await admin.fill('input[name=user]', 'bob');
  await admin.click('button:text("Search")');
  const rows = admin.locator('table.sessions tbody tr[data-session]');
  await until(admin, `document.querySelectorAll('table.sessions tbody tr[data-session]').length >= 2`);
  const count = await rows.count();
  await rows.first().locator('button:text("Revoke")').click();
  const dialog = admin.locator('dialog.confirm');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Revoke this session\?/);
  await dialog.locator('button:text("Cancel")').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await rows.count(), count, 'Cancel revokes nothing');
  await rows.first().locator('button:text("Revoke")').click();
  await dialog.locator('button:text("Revoke session")').click();
  await admin.waitForSelector('.banner.ok:has-text("Revoked the session of bob")');
  await until(
    admin,
    `document.querySelectorAll('table.sessions tbody tr[data-session]').length === ${count - 1}`,
  );
  const statuses = [(await landing(bob.context)).status, (await landing(bob2.context)).status].sort();
  assert.deepEqual(statuses, [200, 302], 'one of the two browsers is signed out, the other is not');
});

test("Sessions: revoking all of a user's sessions signs that user out (the next request goes to login)", async () => {
  const before = [await landing(bob.context), await landing(bob2.context)];
  assert.ok(
    before.some((r) => r.status === 200),
    'bob is still signed in in one browser',
  );
  await admin.goto(`${demo.admin}#/sessions`);
  await admin.fill('input[name=user]', 'bob');
  await admin.click('button:text("Search")');
  await admin.waitForSelector('table.sessions tbody tr[data-session]');
  await admin.click('button:text("Revoke all of bob")');
  const dialog = admin.locator('dialog.confirm');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Revoke all sessions of bob\?/);
  await shot(admin, 'revoke-confirm');
  await dialog.locator('button:text("Revoke all")').click();
  await admin.waitForSelector('.banner.ok:has-text("Revoked")');
  await admin.waitForSelector('table.sessions tbody tr:has-text("No active sessions of bob")');

  for (const ctx of [bob.context, bob2.context]) {
    const after = await landing(ctx);
    assert.equal(after.status, 302, 'bob is sent to sign in');
    const to = new URL(after.location, demo.proxy);
    assert.ok(
      to.href.startsWith(demo.issuer) || /\/\.gatehouse\//.test(to.pathname),
      `the redirect goes to the login: ${to.href}`,
    );
  }
  // The console's own admin session is untouched.
  await admin.reload();
  await admin.waitForSelector('table.sessions');
});

test('No JavaScript errors: no page error and no console error in any page of the run', () => {
  assert.deepEqual(demo.errors, []);
});
