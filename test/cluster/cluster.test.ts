import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Pids of the primary's worker processes, from ps (tsx may add an esbuild child: not a worker). */
function workerPids(primary: number): Set<string> {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(primary)], { encoding: 'utf8' });
  } catch {
    return new Set(); // ps exits 1 when the primary has no children (or is gone)
  }
  return new Set(
    out
      .split('\n')
      .filter((l) => l.includes('cli-source'))
      .map((l) => l.trim().split(/\s+/)[0] as string),
  );
}

/** Both slots answer the primary's metrics snapshot (so both reported ready). */
function bothServing(metrics: string): boolean {
  return (
    /^gatehouse_ready\{worker="0"\} 1$/m.test(metrics) && /^gatehouse_ready\{worker="1"\} 1$/m.test(metrics)
  );
}

function portFree(port: number): Promise<boolean> {
  const probe = createNetServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

test('cluster: metrics aggregated, respawn after kill -9, SIGHUP reloads every worker or none, SIGTERM exits 0', async () => {
  const up = await startUpstream();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-cluster-'));
  const file = join(dir, 'gatehouse.yaml');
  const write = (path: string, broken = false) =>
    writeFileSync(
      file,
      `server:\n  workers: 2\n  shutdown_timeout: 2s\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: info, file: ${join(dir, 'gh.log')} }\nupstreams:\n  app: { url: "${up.url}" }\nroutes:\n  - { match: { path: ${path} }, upstream: app, auth: ${broken ? 'nobody' : 'none'} }\n`,
    );
  write('/one');
  const gh = run(['start', '-c', file]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const primary = gh.child.pid as number;
    await waitFor(
      async () => (await send(base, '/.gatehouse/ready')).status === 200,
      30_000,
      `workers (${gh.output()})`,
    );
    await waitFor(
      async () =>
        workerPids(primary).size === 2 && bothServing((await send(base, '/.gatehouse/metrics')).body),
      20_000,
      'both workers ready',
    ).catch(async (e: Error) => {
      const m = (await send(base, '/.gatehouse/metrics')).body;
      throw new Error(
        `${e.message}: pids ${[...workerPids(primary)].join()} ${m
          .split('\n')
          .filter((l) => l.includes('ready'))
          .join(' ')}`,
      );
    });
    // Metrics on any worker count the requests served by both.
    for (let i = 0; i < 20; i++) assert.equal((await send(base, '/one')).status, 200);
    assert.equal(up.received.length, 20);
    // A scrape on one worker answers for both (a worker slow to answer the primary is left out
    // of that scrape, so allow a retry on a loaded machine).
    let metrics = '';
    const counted = () =>
      [...metrics.matchAll(/^gatehouse_requests_total\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]?.includes('route="routes[0]"'))
        .map((m) => Number(m[2]))
        .reduce((a, b) => a + b, 0);
    await waitFor(
      async () => {
        metrics = (await send(base, '/.gatehouse/metrics')).body;
        return counted() === 20 && /process_start_time_seconds\{worker="1"\}/.test(metrics);
      },
      15_000,
      'aggregated metrics',
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${metrics}`);
    });
    assert.equal(counted(), 20);
    const starts = [...metrics.matchAll(/^process_start_time_seconds\{worker="(\d)"\}/gm)];
    assert.equal(starts.length, 2, 'gauges are kept per worker');

    // kill -9 one worker: a new pid serves within seconds.
    const victim = [...workerPids(primary)][0] as string;
    const t0 = Date.now();
    process.kill(Number(victim), 'SIGKILL');
    await waitFor(
      async () => {
        const now = workerPids(primary);
        if (now.size !== 2 || now.has(victim)) return false;
        // Round-robin between the two workers: four answers in a row include the new one.
        for (let i = 0; i < 4; i++) if ((await send(base, '/one')).status !== 200) return false;
        return true;
      },
      15_000,
      'a respawned worker',
    );
    console.log(`respawned worker serving ${Date.now() - t0} ms after kill -9`);
    // Serving comes a moment before the worker reports ready to the primary (its start work
    // finishes after its listener joins); reloads and metrics ask only workers that did.
    await waitFor(
      async () => bothServing((await send(base, '/.gatehouse/metrics')).body),
      15_000,
      'the respawned worker reported ready',
    );

    // SIGHUP with a broken config: both workers keep the old routes.
    write('/two', true);
    gh.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 6; i++) assert.equal((await send(base, '/one')).status, 200);
    assert.equal((await send(base, '/two')).status, 404);
    // A good config: both serve the new route.
    write('/two');
    gh.child.kill('SIGHUP');
    await waitFor(
      async () => {
        for (let i = 0; i < 6; i++) if ((await send(base, '/two')).status !== 200) return false;
        return true;
      },
      15_000,
      'both workers on the new config',
    );
    assert.equal((await send(base, '/one')).status, 404);
    // gatehouse reload reaches the primary's control socket; its answer covers every worker.
    write('/three');
    const r = run(['reload', '-c', file]);
    assert.equal(await r.exit, 0, r.output());
    assert.match(r.output(), /reloaded on 2 workers/);
    for (let i = 0; i < 6; i++) assert.equal((await send(base, '/three')).status, 200);

    const t1 = Date.now();
    gh.child.kill('SIGTERM');
    const code = await Promise.race([
      gh.exit,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000)),
    ]);
    assert.equal(code, 0, gh.output());
    console.log(`cluster stopped ${Date.now() - t1} ms after SIGTERM`);
    assert.equal(await portFree(port), true);
  } finally {
    gh.child.kill('SIGKILL');
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate and start refuse workers: 2 with a memory-backed limits store, naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cluster-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `server:\n  workers: 2\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - match: { path: / }\n    upstream: app\n    auth: none\n    limits: [{ rate: 5/min, key: ip }]\n`,
  );
  try {
    const v = run(['validate', '-c', file]);
    assert.equal(await v.exit, 1, v.output());
    assert.match(v.output(), /limits\.store: is "memory" but server\.workers is 2/);
    const s = run(['start', '-c', file]);
    assert.equal(await s.exit, 1, s.output());
    assert.match(s.output(), /limits\.store/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster: a crash loop (5 worker deaths within 60 s) is reported and the primary exits 1', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-cluster-'));
  const file = join(dir, 'gatehouse.yaml');
  const log = join(dir, 'gh.log');
  writeFileSync(
    file,
    `server:\n  workers: 2\n  listeners: [{ address: 127.0.0.1, port: ${port} }]\nlog: { level: info, file: ${log} }\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - { match: { path: / }, upstream: app, auth: none }\n`,
  );
  const gh = run(['start', '-c', file]);
  const base = `http://127.0.0.1:${port}`;
  try {
    const primary = gh.child.pid as number;
    await waitFor(
      async () =>
        workerPids(primary).size === 2 && bothServing((await send(base, '/.gatehouse/metrics')).body),
      60_000,
      'both workers ready',
    );
    const killed = new Set<string>();
    let code: number | null | string = 'running';
    void gh.exit.then((c) => (code = c));
    while (code === 'running' && killed.size < 5) {
      const next = [...workerPids(primary)].find((p) => !killed.has(p));
      if (next === undefined) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      killed.add(next);
      process.kill(Number(next), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
    const exit = await Promise.race([
      gh.exit,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000)),
    ]);
    assert.equal(exit, 1, gh.output());
    assert.equal(killed.size, 5, 'the cluster ran until the fifth death');
    assert.match(gh.output(), /GH_CLUSTER_CRASH_LOOP/);
    assert.match(readFileSync(log, 'utf8'), /"level":"fatal".*"error":"GH_CLUSTER_CRASH_LOOP"/);
    assert.equal(await portFree(port), true);
  } finally {
    gh.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
