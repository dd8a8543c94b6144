import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { startCollector } from './collector.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

test('workers: 2: each worker exports its own spans; SIGTERM flushes what is queued', async () => {
  const up = await startUpstream();
  const collector = await startCollector();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-trace-cluster-'));
  const cfg = join(dir, 'gatehouse.yaml');
  // A batch interval no test waits for: spans of the last requests leave only at shutdown.
  writeFileSync(
    cfg,
    `server:\n  workers: 2\n  shutdown_timeout: 2s\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: warn, file: ${join(dir, 'gh.log')} }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\ntracing:\n  otlp: { endpoint: "${collector.url}" }\n  batch_interval: 1h\n  batch_size: 8\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '-c', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const base = `http://127.0.0.1:${port}`;
  const traces = new Set<string>();
  try {
    await waitFor(
      async () => /gatehouse_ready\{worker="1"\} 1/.test((await send(base, '/.gatehouse/metrics')).body),
      60_000,
      `both workers (${out})`,
    );
    // New connections are spread over the workers: send (bounded) until both have exported.
    let n = 0;
    await waitFor(
      async () => {
        for (let i = 0; i < 10; i++) {
          assert.equal((await send(base, `/c${n++}`)).status, 200);
          traces.add(String(up.received.at(-1)!.headers.traceparent).split('-')[1] ?? '');
        }
        return new Set(collector.spans.map((s) => s.pid)).size === 2;
      },
      30_000,
      'spans from both workers',
    );
    child.kill('SIGTERM');
    assert.equal(await exit, 0, out);
    const exported = new Set(
      collector.spans.filter((s) => s.name === 'gatehouse.request').map((s) => s.traceId),
    );
    const missing = [...traces].filter((t) => !exported.has(t));
    assert.deepEqual(missing, [], 'every request span reached the collector by the end of the shutdown');
    for (const s of collector.spans)
      assert.ok(typeof s.pid === 'number' && s.pid !== child.pid, 'from a worker');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await collector.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
