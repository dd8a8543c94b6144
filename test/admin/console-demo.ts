/**
 * Shared setup of the admin console's Chromium tests: a real Gatehouse with its admin listener
 * and the dev OpenID provider (test/admin/helpers.ts), a headless Chromium, sign-in helpers, and
 * the console build when console/dist is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startAdminFixture } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the test run saves its screenshots (gitignored). */
export const SHOTS = join(ROOT, 'test-results', 'console');

/**
 * Builds the console (`vite build console`) unless console/dist already has it. The build goes to
 * a directory of its own and is renamed into place, so two test files building at once do not
 * empty each other's output.
 */
export function ensureConsoleBuilt(): void {
  const dist = join(ROOT, 'console', 'dist');
  if (existsSync(join(dist, 'index.html'))) return;
  const tmp = join(ROOT, 'console', `dist-build-${process.pid}`);
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', 'console', '--outDir', tmp, '--emptyOutDir'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `vite build console failed:\n${r.stdout}\n${r.stderr}`);
  try {
    renameSync(tmp, dist);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test file built it meanwhile
  }
  assert.ok(existsSync(join(dist, 'index.html')), 'console/dist/index.html after the build');
}

/** A running Gatehouse (SSO fixture: dev OpenID provider, upstream, admin listener) and a browser. */
export interface ConsoleDemo {
  /** The proxy's base URL (`http://127.0.0.1:<port>`). */
  readonly proxy: string;
  readonly issuer: string;
  /** The admin listener's console URL (ends with `/`). */
  readonly admin: string;
  readonly browser: Browser;
  /** Page errors and console errors of the pages opened with `watch` (the console's). */
  readonly errors: string[];
  /**
   * A fresh browser context (its own cookies) with one page; `watch` collects its errors (not
   * for users' pages: Chromium logs every 403 page as a console error).
   */
  newPage(watch?: boolean): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/**
 * Starts Gatehouse with its admin listener (admins: the group `admins`, i.e. alice; `/admin` of
 * the proxy is for admins too, so bob is refused there) and Chromium.
 */
export async function startConsoleDemo(): Promise<ConsoleDemo> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is required by this test: install chromium (apt-get install -y chromium)`);
  ensureConsoleBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const f = await startAdminFixture();
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  } catch (e) {
    await f.close();
    throw e;
  }
  const errors: string[] = [];
  return {
    proxy: f.url,
    issuer: f.idp.issuer,
    admin: `${f.adminUrl.replace(/\/+$/, '')}/`,
    browser,
    errors,
    async newPage(watch = false) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      // Generous waits: other test files load the same two cores.
      context.setDefaultTimeout(60_000);
      context.setDefaultNavigationTimeout(60_000);
      const page = await context.newPage();
      if (watch) {
        page.on('pageerror', (e) => errors.push(`pageerror ${page.url()}: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(`console.error ${page.url()}: ${m.text()}`);
        });
      }
      return { context, page };
    },
    async close() {
      await browser.close();
      await f.close();
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
