import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { raw } from '../helpers/http.js';
import type { SsoFixture } from '../oidc/fixture.js';
import { ADMIN_HEADERS, api, signInToConsole, startAdminFixture, type HostBrowser } from './helpers.js';

describe('admin listener: access control', { timeout: 120_000 }, () => {
  let f: SsoFixture & { adminUrl: string };
  let alice: HostBrowser;

  before(async () => {
    f = await startAdminFixture();
    alice = await signInToConsole(f.adminUrl, 'alice', 'alice-dev-password');
  });
  after(async () => {
    await f?.close();
  });

  it('binds its own loopback port, apart from the proxy listener', () => {
    assert.match(f.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(f.adminUrl, f.url);
  });

  it('an API call without a session gets 401 GH_UNAUTHENTICATED, a browser is sent to sign in', async () => {
    const r = await api(undefined, `${f.adminUrl}/api/whoami`);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'GH_UNAUTHENTICATED');
    const nav = await request(`${f.adminUrl}/`, {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    });
    await nav.body.dump();
    assert.equal(nav.statusCode, 302);
    assert.match(String(nav.headers.location), new RegExp(`^${f.idp.issuer}`));
  });

  it('an admin signs in through the normal login and lands back on the console', async () => {
    const r = await api(alice, `${f.adminUrl}/api/whoami`);
    assert.equal(r.status, 200);
    assert.equal(r.json.user, 'alice@contoso.example');
    assert.equal(r.json.subject, 'alice');
    assert.equal(typeof r.json.instance, 'string');
    assert.match(String(r.json.version), /^\d+\.\d+\.\d+/);
  });

  it('a signed-in user the admin policy does not allow gets 403 (page for browsers, JSON for the API)', async () => {
    const bob = await signInToConsole(f.adminUrl, 'bob', 'bob-dev-password');
    const r = await api(bob, `${f.adminUrl}/api/decisions`);
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'GH_ACCESS_DENIED');
    const page = await bob.send(`${f.adminUrl}/`);
    assert.equal(page.status, 403);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const ev = f.gw.audit.find(
      (e) => e.route === '(admin console)' && e.subject === 'bob' && e.status === 403,
    );
    assert.ok(ev, 'the refused console request is audited');
    assert.equal(ev.decision, 'deny');
  });

  it('mutations need the X-Gatehouse-Admin header and a same-origin Origin (CSRF)', async () => {
    const url = `${f.adminUrl}/api/sessions?user=nobody`;
    const bare = await api(alice, url, { method: 'DELETE' });
    assert.equal(bare.status, 403);
    assert.equal(bare.json.error, 'GH_ADMIN_CSRF');
    const cross = await api(alice, url, {
      method: 'DELETE',
      headers: { ...ADMIN_HEADERS, origin: 'http://evil.example' },
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.json.error, 'GH_ADMIN_CSRF');
    const ok = await api(alice, url, { method: 'DELETE', headers: { ...ADMIN_HEADERS, origin: f.adminUrl } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { revoked: 0 });
  });

  it('the proxy is not reachable through the admin listener, not even by dot-segments', async () => {
    const before = f.upstream.received.length;
    const port = Number(new URL(f.adminUrl).port);
    for (const target of ['/public/x', '/.gatehouse/../public/x', '/.gatehouse/%2e%2e/public/x']) {
      // Raw bytes: an HTTP client library would remove the dot-segments before sending.
      const answer = await raw(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 (401|404|400) /, `${target}: ${answer.slice(0, 40)}`);
    }
    const page = await alice.send(`${f.adminUrl}/.gatehouse/../public/x`, {
      headers: { accept: 'application/json' },
    });
    // An admin gets the console (its client-side view fallback), never the proxied route.
    if (page.status === 200)
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    else assert.equal(page.status, 503, 'console not built');
    assert.equal(f.upstream.received.length, before, 'nothing reached the upstream');
  });

  it('unknown API paths are 404 GH_ADMIN_NOT_FOUND, bad filters 400 GH_ADMIN_BAD_REQUEST', async () => {
    const nf = await api(alice, `${f.adminUrl}/api/nope`);
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error, 'GH_ADMIN_NOT_FOUND');
    const bad = await api(alice, `${f.adminUrl}/api/decisions?decision=maybe`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'GH_ADMIN_BAD_REQUEST');
    const wrong = await api(alice, `${f.adminUrl}/api/whoami`, { method: 'POST', headers: ADMIN_HEADERS });
    assert.equal(wrong.status, 405);
  });
});
