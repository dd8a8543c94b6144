import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../helpers/upstream.js';
import { startIdp } from '../helpers/idp-server.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

function spawnGatehouse(file: string): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '-c', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exit };
}

/** Serves the fake IdP's JWKS on a fixed port, so it can be "down" and come back on the same URL. */
function jwksMirror(port: number, body: () => Promise<string>): Promise<Server> {
  const s = createServer((req, res) => {
    void body().then((b) => res.writeHead(200, { 'content-type': 'application/json' }).end(b));
  });
  return new Promise((r) => s.listen(port, '127.0.0.1', () => r(s)));
}

test('an IdP down at start: public routes serve, bearer routes 503 with Retry-After, readiness names it; all recover', async () => {
  const up = await startUpstream();
  const idp = await startIdp();
  const [port, jwksPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'gh-recover-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      server: { listeners: [{ address: '127.0.0.1', port }] },
      log: { level: 'info', file: join(dir, 'gh.log') },
      providers: {
        corp: {
          issuer: idp.issuer,
          audiences: [idp.audience],
          jwks_uri: `http://127.0.0.1:${jwksPort}/jwks`,
        },
      },
      upstreams: { app: { url: up.url } },
      routes: [
        { match: { path: '/pub' }, upstream: 'app', auth: 'none' },
        {
          match: { path: '/api' },
          upstream: 'app',
          auth: 'bearer',
          rules: [{ effect: 'allow', when: { authenticated: true } }],
        },
      ],
    }),
  );
  const gh = spawnGatehouse(file);
  const base = `http://127.0.0.1:${port}`;
  let mirror: Server | undefined;
  try {
    await waitFor(
      async () => (await send(base, '/pub')).status === 200,
      20_000,
      `public route (${gh.output()})`,
    );
    const token = await idp.token();
    const api = await send(base, '/api', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(api.status, 503);
    assert.equal(api.json().error, 'GH_IDP_UNAVAILABLE');
    assert.ok(Number(api.headers['retry-after']) > 0, 'Retry-After');
    const ready = await send(base, '/.gatehouse/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json().missing, [{ kind: 'jwks', provider: 'corp' }]);
    assert.equal((await send(base, '/.gatehouse/health')).status, 200, 'liveness stays OK');

    mirror = await jwksMirror(jwksPort, async () => (await fetch(idp.jwksUri)).text());
    const t0 = Date.now();
    await waitFor(
      async () =>
        (await send(base, '/api', { headers: { authorization: `Bearer ${token}` } })).status === 200,
      15_000,
      'bearer route after the IdP came back',
    );
    assert.equal((await send(base, '/.gatehouse/ready')).status, 200);
    console.log(`recovered ${Date.now() - t0} ms after the JWKS server came back`);
    gh.child.kill('SIGTERM');
    assert.equal(await gh.exit, 0);
  } finally {
    gh.child.kill('SIGKILL');
    mirror?.close();
    await idp.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a port in use is fatal: exit code 1 at once and the other listener is free again', async () => {
  const blocker = createNetServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const taken = (blocker.address() as { port: number }).port;
  const first = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-fatal-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      server: {
        listeners: [
          { address: '127.0.0.1', port: first },
          { address: '127.0.0.1', port: taken },
        ],
      },
      log: { level: 'info', file: join(dir, 'gh.log') },
      upstreams: { app: { url: 'http://127.0.0.1:9' } },
      routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
    }),
  );
  const t0 = Date.now();
  const gh = spawnGatehouse(file);
  try {
    const code = await Promise.race([
      gh.exit,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000)),
    ]);
    assert.equal(code, 1, gh.output());
    assert.ok(Date.now() - t0 < 10_000, 'Date.now() - t0 < 10_000');
    assert.match(gh.output(), /GH_LISTEN_FAILED: server\.listeners\[1\].*EADDRINUSE/);
    const probe = createNetServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(first, '127.0.0.1', () => resolve());
    });
    probe.close();
  } finally {
    gh.child.kill('SIGKILL');
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable certificate file is fatal: exit code 1, nothing left listening', async () => {
  const first = await freePort();
  const second = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-fatal-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      server: {
        listeners: [
          { address: '127.0.0.1', port: first },
          {
            address: '127.0.0.1',
            port: second,
            tls: { cert_file: join(dir, 'missing.crt'), key_file: join(dir, 'missing.key') },
          },
        ],
      },
      log: { level: 'info', file: join(dir, 'gh.log') },
      upstreams: { app: { url: 'http://127.0.0.1:9' } },
      routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
    }),
  );
  const gh = spawnGatehouse(file);
  try {
    const code = await Promise.race([
      gh.exit,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000)),
    ]);
    assert.equal(code, 1, gh.output());
    assert.match(gh.output(), /server\.listeners\[1\]/);
    const probe = createNetServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(first, '127.0.0.1', () => resolve());
    });
    probe.close();
  } finally {
    gh.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
