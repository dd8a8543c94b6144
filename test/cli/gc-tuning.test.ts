import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { tuneGc, YOUNG_GROWTH_FACTOR } from '../../src/util/gc-tuning.js';

// `gatehouse start` tunes V8's collector (src/util/gc-tuning.ts): the young generation regrows in
// one step after idle, and a process allowed on one CPU turns parallel scavenging off (the helper
// threads would only share that CPU with the main thread that waits for them).

const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const MESSAGE = 'V8 parallel scavenging off';

test('tuneGc sets the growth factor everywhere and turns parallel scavenging off for one CPU only', () => {
  const growth = `--semi-space-growth-factor=${YOUNG_GROWTH_FACTOR}`;
  assert.deepEqual(tuneGc(4), { flags: [growth], oneCpu: false });
  assert.deepEqual(tuneGc(2), { flags: [growth], oneCpu: false });
  assert.deepEqual(tuneGc(1), { flags: [growth, '--no-parallel-scavenge'], oneCpu: true });
});

/**
 * In a fresh process (tuned or not): the young generation's size before and after its first
 * growth, forced by keeping a window of recent objects alive so that scavenges find survivors.
 */
function firstGrowth(tuned: boolean): { start: number; grown: number } {
  const src = fileURLToPath(new URL('../../src/util/gc-tuning.ts', import.meta.url));
  const code = `
    const v8 = require('node:v8');
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    (async () => {
      if (process.argv[1] === 'tuned') (await import(${JSON.stringify(src)})).tuneGc(4);
      const start = size();
      const ring = new Array(100000);
      let grown = start;
      for (let i = 0; i < 5e6 && grown === start; i++) {
        ring[i % ring.length] = { i, s: 'v' + i };
        if (i % 1000 === 0) grown = size();
      }
      console.log(JSON.stringify({ start, grown }));
    })();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code, tuned ? 'tuned' : 'default'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `the growth probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { start: number; grown: number };
}

test('after tuneGc the young generation grows to several times its size in one step (V8 alone: doubles)', () => {
  const plain = firstGrowth(false);
  const tuned = firstGrowth(true);
  assert.equal(
    plain.grown,
    2 * plain.start,
    `V8's default growth doubles the space: ${JSON.stringify(plain)}`,
  );
  assert.equal(tuned.start, plain.start, 'both start from the same minimum');
  assert.ok(
    tuned.grown >= 4 * tuned.start,
    `tuned, one growth reaches ≥ 4 × the minimum: ${JSON.stringify(tuned)}`,
  );
});

/** Starts `gatehouse start` (under `prefix`, e.g. taskset), waits for ready, stops it; its log. */
async function startLog(prefix: string[]): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-gc-'));
  const file = join(dir, 'gatehouse.yaml');
  const log = join(dir, 'gh.log');
  writeFileSync(
    file,
    `server:\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: info, file: ${log} }\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n`,
  );
  const argv = [...prefix, process.execPath, bin, 'start', '-c', file];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitFor(
      async () => (await send(`http://127.0.0.1:${port}`, '/.gatehouse/ready')).status === 200,
      20_000,
      `gatehouse start (${stderr})`,
    );
  } finally {
    // SIGTERM: the logger flushes its file before the process exits.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  return readFileSync(log, 'utf8');
}

test('gatehouse start pinned to one CPU logs that parallel scavenging is off; with more CPUs it stays on', async () => {
  const taskset = spawnSync('taskset', ['-c', '0', 'true']);
  assert.equal(
    taskset.status,
    0,
    `taskset is needed for this test (Debian: apt-get install util-linux): ${String(taskset.error ?? taskset.stderr)}`,
  );
  assert.match(await startLog(['taskset', '-c', '0']), new RegExp(MESSAGE));
  const unpinned = await startLog([]);
  if (availableParallelism() > 1) assert.doesNotMatch(unpinned, new RegExp(MESSAGE));
  else assert.match(unpinned, new RegExp(MESSAGE));
});
