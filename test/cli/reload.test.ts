import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

function run(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exit };
}

async function setup(watch: boolean) {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-reload-'));
  const file = join(dir, 'gatehouse.yaml');
  const write = (path: string, broken = false) =>
    writeFileSync(
      file,
      `server:\n  watch_config: ${watch}\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: info, file: ${join(dir, 'gh.log')} }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: ${path} }, upstream: ${broken ? 'nowhere' : 'app'}, auth: none }\n`,
    );
  write('/one');
  const gh = run(['start', '-c', file]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await send(base, '/.gatehouse/ready')).status === 200,
    20_000,
    `start (${gh.output()})`,
  );
  const cleanup = async () => {
    gh.child.kill('SIGTERM');
    await gh.exit;
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, file, write, gh, base, cleanup };
}

test('gatehouse reload over the control socket: new route on exit 0; a broken config exits 1, old config kept', async () => {
  const s = await setup(false);
  try {
    const sock = join(s.dir, 'gatehouse.sock');
    assert.equal(statSync(sock).mode & 0o777, 0o600, 'owner-only socket');
    s.write('/two');
    const ok = run(['reload', '-c', s.file]);
    assert.equal(await ok.exit, 0, ok.output());
    assert.match(ok.output(), /configuration reloaded/);
    assert.equal((await send(s.base, '/two')).status, 200);
    assert.equal((await send(s.base, '/one')).status, 404);

    s.write('/three', true);
    const bad = run(['reload', '--socket', sock]);
    assert.equal(await bad.exit, 1, bad.output());
    assert.match(bad.output(), /routes\[0\]\.upstream: unknown upstream "nowhere"/);
    assert.equal((await send(s.base, '/two')).status, 200, 'the running config is kept');
    assert.equal((await send(s.base, '/three')).status, 404);

    const none = run(['reload', '--socket', join(s.dir, 'nothing.sock')]);
    assert.equal(await none.exit, 3, none.output());
    assert.match(none.output(), /GH_CONTROL_FAILED/);
  } finally {
    await s.cleanup();
  }
});

test('server.watch_config: an edited file is reloaded; a broken edit keeps the running config', async () => {
  const s = await setup(true);
  try {
    s.write('/two');
    await waitFor(async () => (await send(s.base, '/two')).status === 200, 10_000, 'watch reload').catch(
      (e: Error) => {
        throw new Error(`${e.message}: ${readFileSync(join(s.dir, 'gh.log'), 'utf8').slice(-1500)}`);
      },
    );
    assert.equal((await send(s.base, '/one')).status, 404);
    s.write('/three', true);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await send(s.base, '/two')).status, 200, 'the running config is kept');
    assert.equal((await send(s.base, '/three')).status, 404);
    s.write('/four');
    await waitFor(
      async () => (await send(s.base, '/four')).status === 200,
      10_000,
      'watch reload after a fix',
    );
  } finally {
    await s.cleanup();
  }
});
