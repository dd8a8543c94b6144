import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { tuneGcForCpus } from '../../src/util/gc-tuning.js';

// A process allowed on one CPU turns V8's parallel scavenging off at start (src/util/gc-tuning.ts):
// the helper threads would only share that CPU with the main thread that waits for them.

const bin = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const MESSAGE = 'V8 parallel scavenging off';

test('tuneGcForCpus turns parallel scavenging off for one CPU only', () => {
  assert.equal(tuneGcForCpus(4), false);
  assert.equal(tuneGcForCpus(2), false);
  assert.equal(tuneGcForCpus(1), true);
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
