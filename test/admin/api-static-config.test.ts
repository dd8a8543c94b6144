import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { sendError } from '../../src/server/respond.js';
import { GatehouseError } from '../../src/errors/index.js';
import { serveStatic } from '../../src/admin/static.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { ssoConfig } from '../oidc/fixture.js';
import { startDevProvider } from '../../src/dev/provider.js';
import { adminSection } from './helpers.js';

/** A real HTTP server answering every request from `serveStatic(root)`, errors as Gatehouse does. */
async function staticServer(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    try {
      serveStatic(res, req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, root);
    } catch (e) {
      sendError(res, e as GatehouseError, 'test', 'application/json', new Map(), req.method ?? 'GET');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

async function get(url: string, raw?: string) {
  const u = new URL(url);
  const res = await request(`${u.origin}${raw ?? u.pathname}`);
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('admin console assets', { timeout: 60_000 }, () => {
  let dir: string;
  let built: { url: string; server: Server };
  let empty: { url: string; server: Server };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-console-'));
    mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'dist', 'assets', 'index-3f2a1b9c.js'), 'console.log(1)');
    writeFileSync(join(dir, 'dist', 'assets', 'style.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'outside the root');
    mkdirSync(join(dir, 'nothing'));
    built = await staticServer(join(dir, 'dist'));
    empty = await staticServer(join(dir, 'nothing'));
  });
  after(() => {
    built?.server.close();
    empty?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html (no-cache) and hashed assets (immutable) with their content types', async () => {
    const index = await get(`${built.url}/`);
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(index.headers['x-frame-options'], 'DENY');
    const js = await get(`${built.url}/assets/index-3f2a1b9c.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(String(js.headers['cache-control']), /immutable/);
    const css = await get(`${built.url}/assets/style.css`);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal(css.headers['cache-control'], 'no-cache', 'unhashed names are revalidated');
    const view = await get(`${built.url}/sessions`);
    assert.equal(view.status, 200, 'client-side views get index.html');
    assert.match(view.body, /<title>console/);
  });

  it('never serves a file outside the root (traversal, encoded, dotfiles)', async () => {
    for (const raw of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/.env.js',
      '/assets/%00.js',
    ]) {
      const r = await get(built.url, raw);
      assert.ok(r.status === 404 || r.status === 200, `${raw}: ${r.status}`);
      assert.ok(!r.body.includes('outside the root'), raw);
      if (r.status === 200) assert.match(r.body, /<title>console/, `${raw} falls back to index.html only`);
    }
    const missing = await get(`${built.url}/assets/nope.js`);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /GH_ADMIN_NOT_FOUND/);
  });

  it('answers 503 GH_ADMIN_CONSOLE_NOT_BUILT naming npm run build when there is no build', async () => {
    const r = await get(`${empty.url}/`);
    assert.equal(r.status, 503);
    assert.match(r.body, /GH_ADMIN_CONSOLE_NOT_BUILT/);
    assert.match(r.body, /npm run build/);
  });
});

describe('admin: configuration errors name the key path', () => {
  const base = () =>
    ssoConfig(8080, 'http://127.0.0.1:1/issuer', 'http://127.0.0.1:2', {}) as Record<string, unknown> & {
      admin?: unknown;
    };
  const problems = (doc: Record<string, unknown>) => {
    try {
      validateConfig(doc);
    } catch (e) {
      assert.ok(e instanceof ConfigError, 'e instanceof ConfigError');
      return e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };

  it('refuses a non-loopback address without TLS, a missing policy, mtls_subjects without a client CA', () => {
    const c = base();
    c.admin = { listen: '0.0.0.0:9901', access: { rules: [{ effect: 'allow', when: { group: 'a' } }] } };
    assert.match(problems(c).join('\n'), /admin\.listen: 0\.0\.0\.0 is not a loopback address/);
    c.admin = { access: {} };
    assert.match(problems(c).join('\n'), /admin\.access\.rules: the console needs an admin policy/);
    c.admin = { access: { mtls_subjects: ['CN=ops'] } };
    assert.match(problems(c).join('\n'), /admin\.access\.mtls_subjects: needs admin\.tls\.client_ca/);
    c.admin = { listen: 'localhost', access: { rules: [{ effect: 'allow', when: { group: 'a' } }] } };
    assert.match(problems(c).join('\n'), /admin\.listen: expected host:port/);
    c.admin = {
      access: { rules: [{ effect: 'allow', when: { group: 'a' } }] },
      retention: { analytics_window: '1m' },
    };
    assert.match(problems(c).join('\n'), /admin\.retention\.analytics_window: expected at least 15m/);
  });

  it('compiling reports an unknown login and a missing session section at admin.access', async () => {
    const idp = await startDevProvider({
      clients: [],
      logger: { warn: () => undefined, info: () => undefined, error: () => undefined } as never,
    });
    try {
      const c = ssoConfig(0, idp.issuer, 'http://127.0.0.1:9', {});
      c.admin = adminSection({
        access: { login: 'nope', rules: [{ effect: 'allow', when: { group: 'admins' } }] },
      });
      await assert.rejects(
        startGatehouse(c, { env: { TEST_SESSION_SECRET: 'x'.repeat(48) } }),
        (e: unknown) =>
          e instanceof ConfigError && /admin\.access\.login: unknown login "nope"/.test(e.message),
      );
      const { session: _s, ...noSession } = ssoConfig(0, idp.issuer, 'http://127.0.0.1:9', {});
      noSession.routes = [{ match: { path: '/' }, upstream: 'app', auth: 'none' }];
      noSession.admin = adminSection();
      await assert.rejects(
        startGatehouse(noSession),
        (e: unknown) =>
          e instanceof ConfigError &&
          /admin\.access: signing in to the console needs a top-level `session`/.test(e.message),
      );
    } finally {
      await idp.close();
    }
  });
});
