import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createPki } from '../helpers/certs.js';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** GET / over TLS (SNI and Host `localhost`); the peer certificate's serial and the socket. */
function get(port: number, ca: string, agent: Agent | false, path = '/') {
  return new Promise<{ status: number; serial: string; socket: TLSSocket; reused: boolean }>(
    (resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          servername: 'localhost',
          ca,
          agent,
          headers: { host: `localhost:${port}` },
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          const serial = socket.getPeerCertificate().serialNumber;
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, serial, socket, reused: req.reusedSocket }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

test('gatehouse start: a PFX listener with its passphrase from the environment, renewed by SIGHUP without dropping a keep-alive connection', async () => {
  const pki = createPki();
  const up = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'gh-tls-cli-'));
  const ca = pki.createCa('cli-ca');
  const pfxOf = (name: string) => {
    const leaf = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    const out = join(pki.dir, `${name}.pfx`);
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      leaf.certPath,
      '-inkey',
      leaf.keyPath,
      '-out',
      out,
      '-passout',
      'pass:s3cret pass',
    ]);
    return { path: out, serial: new X509Certificate(leaf.cert).serialNumber };
  };
  const first = pfxOf('first');
  const second = pfxOf('second');
  const live = join(dir, 'listener.pfx');
  copyFileSync(first.path, live);
  const port = await freePort();
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `server:
  listeners:
    - address: 127.0.0.1
      port: ${port}
      tls: { pfx: listener.pfx, passphrase: "\${LISTENER_PFX_PASSWORD}" }
log: { level: info, file: ${join(dir, 'gh.log')} }
upstreams:
  app: { url: "${up.url}" }
routes:
  - { match: { path: / }, upstream: app, auth: none }
`,
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(main)}); process.exitCode = await m.main(process.argv.slice(1));`,
      'start',
      '-c',
      file,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LISTENER_PFX_PASSWORD: 's3cret pass' } },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitFor(
      async () => (await get(port, ca.cert, false, '/.gatehouse/ready')).status === 200,
      20_000,
      `gatehouse start (${output})`,
    );
    const before = await get(port, ca.cert, keepAlive);
    assert.equal(before.status, 200);
    assert.equal(before.serial, first.serial);

    copyFileSync(second.path, live);
    child.kill('SIGHUP');
    await waitFor(async () => (await get(port, ca.cert, false)).serial === second.serial, 10_000, 'reload');

    const again = await get(port, ca.cert, keepAlive);
    assert.equal(again.status, 200);
    assert.ok(again.reused && again.socket === before.socket, 'the keep-alive connection was not dropped');
    assert.equal(again.serial, first.serial);

    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    keepAlive.destroy();
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    keepAlive.destroy();
    child.kill('SIGKILL');
    await up.close();
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  }
});
