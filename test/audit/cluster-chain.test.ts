import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { main } from '../../src/cli/main.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

/** Chain ids of the request events written to `file` so far. */
function requestChains(file: string): Set<string> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let e: { type?: string; chain?: { id?: string } };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue; // a line still being written
    }
    if (e.type === 'request' && e.chain?.id !== undefined) out.add(e.chain.id);
  }
  return out;
}

interface Chains {
  ok: boolean;
  chains: { id: string; worker?: number; closed: boolean; records: number }[];
}

test('workers: 2 appending to one audit file: one chain per worker, both verify and end signed', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-cluster-'));
  const cfg = join(dir, 'gatehouse.yaml');
  const file = join(dir, 'audit.jsonl');
  writeFileSync(
    cfg,
    `server:\n  workers: 2\n  shutdown_timeout: 2s\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: warn, file: ${join(dir, 'gh.log')} }\naudit: { file: audit.jsonl }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '-c', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => /gatehouse_ready\{worker="1"\} 1/.test((await send(base, '/.gatehouse/metrics')).body),
      60_000,
      `both workers (${out})`,
    );
    // New connections are spread over the workers by the primary; keep sending (bounded) until
    // both workers have written request events, so each has a chain with content.
    const ids = new Set<string>();
    let n = 0;
    await waitFor(
      async () => {
        for (let i = 0; i < 10; i++) ids.add(String((await send(base, `/w${n++}`)).headers['x-request-id']));
        return requestChains(file).size === 2;
      },
      30_000,
      'request events from both workers',
    );
    child.kill('SIGTERM');
    assert.equal(await exit, 0, out);
    const events = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; request_id?: string; path?: string });
    const served = events.filter((e) => e.type === 'request' && e.path?.startsWith('/w'));
    assert.deepEqual(new Set(served.map((e) => e.request_id)), ids, 'every request, once');
    let text = '';
    const w = new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) });
    const code = await main(['audit', 'verify', '--complete', '--json', file], { stdout: w, stderr: w });
    const r = JSON.parse(text) as Chains;
    assert.equal(code, 0, text);
    assert.equal(r.chains.length, 2, text);
    assert.deepEqual(r.chains.map((c) => c.worker).sort(), [0, 1]);
    assert.ok(
      r.chains.every((c) => c.closed),
      'r.chains.every((c) => c.closed)',
    );
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exit;
    }
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
