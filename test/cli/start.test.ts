import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

test('gatehouse start serves, reloads on SIGHUP without dropping, and drains on SIGTERM', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-start-'));
  const file = join(dir, 'gatehouse.yaml');
  const write = (path: string) =>
    writeFileSync(
      file,
      `server:\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: info, file: ${join(dir, 'gh.log')} }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: ${path} }, upstream: app, auth: none }\n`,
    );
  write('/one');
  const child = spawn(process.execPath, [bin, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await send(base, '/.gatehouse/ready')).status === 200,
      20_000,
      `gatehouse start (${stderr})`,
    );
    assert.equal((await send(base, '/one')).status, 200);
    assert.equal((await send(base, '/two')).status, 404);
    write('/two');
    child.kill('SIGHUP');
    await waitFor(async () => (await send(base, '/two')).status === 200, 10_000, 'reload');
    assert.equal((await send(base, '/one')).status, 404);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
    await up.close();
  }
});
