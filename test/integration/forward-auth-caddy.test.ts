import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { requireBinary } from '../helpers/binaries.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import { caddyForwardAuthSite } from './forward-auth-caddy.caddy.js';

/** Forward-auth against a REAL Caddy (`forward_auth`), with the site block docs/forward-auth.md shows. */
const READER = 'ak_caddy_reader_3f9e1d2c4b5a6978';
let up: RecordingUpstream;
let gh: TestGateway;
let caddy: ChildProcess;
let site: string;
let stderr = '';

before(async () => {
  const bin = requireBinary('caddy', 'caddy');
  up = await startUpstream();
  gh = await startGatehouse({
    server: { trusted_proxies: ['127.0.0.1/32'] },
    upstreams: { app: { url: up.url } },
    api_keys: { keys: [{ hash: hashApiKey(READER), client_id: 'caddy-reader', roles: ['reader'] }] },
    routes: [
      { name: 'public', match: { path: '/public' }, upstream: 'app', auth: 'none' },
      {
        name: 'reports',
        match: { path: '/reports' },
        upstream: 'app',
        auth: 'apikey',
        allow: 'authenticated',
        identity: { headers: { 'X-Forwarded-User': '{sub}' } },
      },
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ effect: 'allow', when: { role: 'admin' } }],
      },
    ],
  });
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gh-caddy-'));
  const file = join(dir, 'Caddyfile');
  writeFileSync(
    file,
    `{\n\tadmin off\n\tauto_https off\n}\n\n` +
      caddyForwardAuthSite({
        site,
        gatehouse: gh.url.replace('http://', ''),
        upstream: up.url.replace('http://', ''),
      }),
  );
  caddy = spawn(bin, ['run', '--config', file, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  caddy.stderr?.on('data', (d) => (stderr += d));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (caddy.exitCode !== null) throw new Error(`caddy exited: ${stderr}`);
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    15_000,
    `caddy on port ${port}`,
  );
});

after(async () => {
  caddy.kill('SIGTERM');
  await new Promise((r) => (caddy.exitCode !== null ? r(undefined) : caddy.once('exit', r)));
  await gh.close();
  await up.close();
});

test('caddy: an allowed request reaches the app with the identity header Gatehouse returned; forged ones never do', async () => {
  const n = up.received.length;
  const r = await send(site, '/reports/%61nnual?x=1', {
    headers: { 'x-api-key': READER, 'x-forwarded-user': 'mallory' },
  });
  assert.equal(r.status, 200, `${r.body} ${stderr.slice(-500)}`);
  assert.equal(up.received.length, n + 1);
  const seen = up.received.at(-1)!;
  assert.equal(seen.headers['x-forwarded-user'], 'caddy-reader');
  const ev = gh.audit.at(-1);
  assert.equal(ev?.path, '/reports/annual', 'Gatehouse decided on the normalised original path');
  assert.equal(ev?.decision, 'allow');
});

test('caddy: denied and unauthenticated requests never reach the app', async () => {
  const n = up.received.length;
  const denied = await send(site, '/admin', { headers: { 'x-api-key': READER } });
  assert.equal(denied.status, 403);
  assert.equal(JSON.parse(denied.body).error, 'GH_ACCESS_DENIED');
  const none = await send(site, '/reports');
  assert.equal(none.status, 401);
  assert.equal(up.received.length, n);
});

test('caddy: a client-sent X-Forwarded-Uri cannot change what Gatehouse authorises', async () => {
  const n = up.received.length;
  const r = await send(site, '/admin/secrets', {
    headers: { 'x-api-key': READER, 'x-forwarded-uri': '/public' },
  });
  assert.equal(r.status, 403);
  assert.equal(up.received.length, n);
  const pub = await send(site, '/public/page');
  assert.equal(pub.status, 200);
});
