import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { AuditLog } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { main } from '../../src/cli/main.js';
import { startUpstream } from '../helpers/upstream.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { send } from '../helpers/http.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

function event(i: number): AuditEvent {
  return {
    time: new Date().toISOString(),
    type: 'request',
    request_id: `r${i}`,
    decision: 'allow',
    reasons: [],
    status: 200,
    latency_ms: 1,
  };
}

function ids(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.type === 'request')
    .map((e) => e.request_id);
}

async function verify(...files: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const code = await main(['audit', 'verify', ...files], { stdout: w, stderr: w });
  return { code, out };
}

function log(path: string, reopenCheckMs: number): AuditLog {
  return new AuditLog({
    stdout: false,
    level: 'info',
    integrity: { enabled: true, checkpoint_every: 1000, checkpoint_interval: 0 },
    sinks: [
      {
        type: 'file',
        path,
        reopen_check: reopenCheckMs,
        on_failure: 'drop',
        buffer: { max_events: 1000, max_bytes: 1 << 20 },
        retry: { initial: 20, max: 100 },
      },
    ],
  } as unknown as ConstructorParameters<typeof AuditLog>[0]);
}

test('file sink: renamed away (logrotate without copytruncate) or removed, a new file is opened at the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-rot-'));
  const file = join(dir, 'audit.jsonl');
  const a = log(file, 30);
  try {
    for (let i = 0; i < 5; i++) a.emit(event(i));
    await waitFor(() => ids(file).length === 5, 5000, 'first events');
    renameSync(file, `${file}.1`);
    await new Promise((r) => setTimeout(r, 120));
    for (let i = 5; i < 10; i++) a.emit(event(i));
    await waitFor(() => ids(file).length === 5, 5000, 'events in the new file');
    unlinkSync(file);
    await new Promise((r) => setTimeout(r, 120));
    for (let i = 10; i < 12; i++) a.emit(event(i));
    await waitFor(() => ids(file).length === 2, 5000, 'events in the file created after removal');
  } finally {
    await a.close();
  }
  assert.deepEqual(ids(`${file}.1`), ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.deepEqual(ids(file), ['r10', 'r11']);
  rmSync(dir, { recursive: true, force: true });
});

test('gatehouse start: SIGUSR1 reopens the audit file (reopen_check: 0); the rotated and new files verify together', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-usr1-'));
  const file = join(dir, 'audit.jsonl');
  const cfg = join(dir, 'gatehouse.yaml');
  writeFileSync(
    cfg,
    `server:\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: warn, file: ${join(dir, 'gh.log')} }\naudit:\n  sinks:\n    - { type: file, path: audit.jsonl, reopen_check: 0 }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n`,
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
      async () => (await send(base, '/.gatehouse/ready')).status === 200,
      40_000,
      `start (${out})`,
    );
    const before = (await send(base, '/before')).headers['x-request-id'];
    await waitFor(() => ids(file).includes(String(before)), 5000, 'first event');
    renameSync(file, `${file}.1`);
    await new Promise((r) => setTimeout(r, 100));
    const still = (await send(base, '/still-old')).headers['x-request-id'];
    await waitFor(
      () => ids(`${file}.1`).includes(String(still)),
      5000,
      'written to the renamed file until told',
    );
    assert.equal(existsSync(file), false);
    child.kill('SIGUSR1');
    await new Promise((r) => setTimeout(r, 100));
    const after = (await send(base, '/after')).headers['x-request-id'];
    await waitFor(() => ids(file).includes(String(after)), 5000, `event in the reopened file (${out})`);
    assert.ok(child.exitCode === null, 'still running after SIGUSR1');
    child.kill('SIGTERM');
    assert.equal(await exit, 0, out);
    const v = await verify(`${file}.1`, file);
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, /closed/);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exit;
    }
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
