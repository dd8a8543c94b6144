/**
 * OAuth client secret rotation by reload (docs/secrets.md): the secret comes from a file
 * (`${file:…}`), `SIGHUP` re-reads it, and a login that started before the reload completes
 * after it with the new secret. Through the real CLI (`gatehouse start`) and the embedded
 * OpenID provider; the provider knows only the new secret, so the old one demonstrably fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevProvider } from '../../src/dev/provider.js';
import { DEMO_USERS } from '../../src/dev/provider.js';
import { TestBrowser } from '../oidc/browser-client.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startUpstream } from '../helpers/upstream.js';

const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const OLD = 'old-client-secret-0123456789abcdef';
const NEW = 'new-client-secret-fedcba9876543210';
const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

test('SIGHUP picks up a rotated client secret file; a login in flight during the reload completes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-rotate-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const upstream = await startUpstream();
  const idp = await startDevProvider({
    clients: [
      {
        client_id: 'gh-rotate',
        client_secret: NEW,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${url}/.gatehouse/callback`],
        post_logout_redirect_uris: [`${url}/`],
      },
    ],
    logger: quiet as never,
  });
  writeFileSync(join(dir, 'client_secret'), `${OLD}\n`);
  writeFileSync(
    join(dir, 'gatehouse.yaml'),
    [
      'server:',
      `  listeners: [{ address: 127.0.0.1, port: ${port} }]`,
      `  external_url: ${url}`,
      'log: { level: info, access_log: false }',
      `upstreams: { app: { url: "${upstream.url}" } }`,
      `providers: { dev: { issuer: "${idp.issuer}", audiences: [gh-rotate], login_client_ids: [gh-rotate] } }`,
      'session:',
      '  secrets: ["rotate-test-session-secret-0123456789abcdef"]',
      '  insecure_http_cookies: true',
      '  login:',
      '    provider: dev',
      '    client_id: gh-rotate',
      '    client_secret: "${file:client_secret}"',
      '    insecure_allow_http: true',
      'routes:',
      '  - { match: { path: / }, upstream: app, auth: session, allow: authenticated }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [bin, 'start', '-c', join(dir, 'gatehouse.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor(
      async () => (await fetch(`${url}/.gatehouse/ready`).catch(() => undefined))?.status === 200,
      20_000,
      `gatehouse ready (output: ${out})`,
    );
    const alice = DEMO_USERS[0]!;
    const isCallback = (u: string) => u.startsWith(`${url}/.gatehouse/callback`);

    // With the old secret, the code exchange is refused: the secret matters.
    const before = new TestBrowser();
    const refused = await before.login(`${url}/`, alice.id, alice.password);
    assert.ok(refused.status >= 400, `expected a failed login, got ${refused.status}`);
    assert.equal(upstream.received.length, 0);

    // A login in flight: signed in at the IdP, the browser not yet back at the callback.
    const inFlight = new TestBrowser();
    const form = await inFlight.navigate(`${url}/`);
    const held = await inFlight.submitLogin(form, alice.id, alice.password, isCallback);
    assert.ok(isCallback(held.url), held.url);

    writeFileSync(join(dir, 'client_secret'), `${NEW}\n`);
    child.kill('SIGHUP');
    await waitFor(() => out.includes('configuration reloaded'), 10_000, `reload (output: ${out})`);

    const done = await inFlight.navigate(held.url);
    assert.equal(done.status, 200, `login after reload: ${done.status} ${done.body.slice(0, 200)}`);
    assert.equal(upstream.received.length, 1);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await idp.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
