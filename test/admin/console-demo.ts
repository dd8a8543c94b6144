/**
 * Shared setup of the admin console's Chromium tests: `gatehouse dev --port 0` (embedded OpenID
 * provider, demo apps, the admin listener with its demo admin), a headless Chromium, sign-in
 * helpers and the console build when console/dist is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { runDev } from '../../src/cli/dev.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the test run saves its screenshots (gitignored). */
export const SHOTS = join(ROOT, 'test-results', 'console');

/** Builds the console (`vite build console`) unless console/dist already has it. */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(ROOT, 'console', 'dist', 'index.html'))) return;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', 'console'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `vite build console failed:\n${r.stdout}\n${r.stderr}`);
  assert.ok(
    existsSync(join(ROOT, 'console', 'dist', 'index.html')),
    'console/dist/index.html after the build',
  );
}

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

/** A running `gatehouse dev` with its admin console and a browser. */
export interface ConsoleDemo {
  readonly intranet: string;
  readonly payroll: string;
  readonly issuer: string;
  /** The admin listener's console URL (ends with `/`). */
  readonly admin: string;
  readonly browser: Browser;
  /** Page errors and console errors of every page opened through {@link ConsoleDemo.newPage}. */
  readonly errors: string[];
  /** A fresh browser context (its own cookies) with one page, errors collected. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** Starts `gatehouse dev --port 0` and Chromium. */
export async function startConsoleDemo(): Promise<ConsoleDemo> {
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
  const issuer = /Identity provider: (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text())?.[1];
  assert.ok(issuer, out.text());
  const adminUrl = /Admin console:\s+(https?:\/\/\S+)/.exec(out.text())?.[1];
  assert.ok(adminUrl, `gatehouse dev prints the admin console's URL:\n${out.text()}`);
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
  const errors: string[] = [];
  return {
    intranet,
    payroll: `http://payroll.localhost:${port}`,
    issuer,
    admin: adminUrl.endsWith('/') ? adminUrl : `${adminUrl}/`,
    browser,
    errors,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`pageerror ${page.url()}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error ${page.url()}: ${m.text()}`);
      });
      return { context, page };
    },
    async close() {
      await browser.close();
      ac.abort();
      assert.equal(await exit, 0, err.text());
    },
  };
}

/** Signs `user` in through the demo IdP's form, starting at `url`; waits until back at `url`'s origin. */
export async function signIn(page: Page, url: string, issuer: string, user: string): Promise<void> {
  await page.goto(url);
  assert.ok(page.url().startsWith(issuer), `sent to the IdP to sign in: ${page.url()}`);
  await page.fill('input[name=login]', user);
  await page.fill('input[name=password]', `${user}-dev-password`);
  const origin = new URL(url).origin;
  await Promise.all([
    page.waitForURL((u) => u.origin === origin, { timeout: 60_000 }),
    page.click('button[type=submit]'),
  ]);
}

/** Saves a screenshot of the page as test-results/console/NAME.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}
