import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

// With workers: 2, SIGUSR1 to the primary (what logrotate's postrotate sends) reaches every
// worker: both reopen the audit file at its path.

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

/** Chain ids of the request events in `file`. */
function chains(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  const out = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    let e: { type?: string; chain?: { id?: string } };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue; // a line still being written
    }
    if (e.type === 'request' && e.chain?.id) out.add(e.chain.id);
  }
  return out;
}

test('cluster: SIGUSR1 to the primary makes every worker reopen the audit file', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-cluster-usr1-'));
  const file = join(dir, 'audit.jsonl');
  const cfg = join(dir, 'gatehouse.yaml');
  writeFileSync(
    cfg,
    `server:\n  workers: 2\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: warn, file: ${join(dir, 'gh.log')} }\naudit:\n  sinks:\n    - { type: file, path: audit.jsonl, reopen_check: 0 }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '-c', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const base = `http://127.0.0.1:${port}`;
  // New connections each time: the primary spreads them over both workers.
  const burst = async () => {
    for (let i = 0; i < 12; i++) await send(base, `/r${i}`, { headers: { connection: 'close' } });
  };
  try {
    await waitFor(
      async () => (await send(base, '/.gatehouse/ready')).status === 200,
      60_000,
      `start (${out})`,
    );
    await waitFor(
      async () => {
        await burst();
        return chains(file).size === 2;
      },
      30_000,
      'both workers wrote to the file',
    );
    renameSync(file, `${file}.1`);
    child.kill('SIGUSR1');
    await waitFor(
      async () => {
        await burst();
        return chains(file).size === 2;
      },
      30_000,
      `both workers write to the reopened file (${out})`,
    );
    assert.equal(child.exitCode, null, 'the cluster still runs after SIGUSR1');
    child.kill('SIGTERM');
    assert.equal(await exit, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await up.close();
  }
});
