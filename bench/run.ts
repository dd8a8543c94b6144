/**
 * `npm run bench`: Gatehouse against nginx proxy_pass on loopback, following
 * ../shared/benchmarks.md. See bench/README.md for the method and how to read the output.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../test/helpers/binaries.js';
import type { RunningCandidate } from './lib/candidate.js';
import { selectCandidates } from './lib/candidates.js';
import { openBenchContext } from './lib/context.js';
import { ROOT, SkipCandidate } from './lib/gatehouse.js';
import { readOptions, type BenchOptions } from './lib/options.js';
import {
  busyPercent,
  contextSwitches,
  cpuJiffies,
  cpuMicros,
  onExit,
  peakRssKiB,
  processTree,
} from './lib/procs.js';
import {
  floorsTable,
  notRun,
  pairedTable,
  resultsTable,
  roundsTable,
  type RoundResult,
} from './lib/report.js';
import { summarise, type StartStatus } from './lib/summary.js';
import { microLines, runMicro, type MicroResults } from './lib/micro.js';
import { runWrk } from './lib/wrk.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n');
  return lines.find((l) => l.trim() !== '')?.trim() ?? '';
}

function fileSize(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
}

async function idleLoad(opts: BenchOptions): Promise<{ load: number; proxy: number }> {
  const a = cpuJiffies();
  await sleep(1000);
  const b = cpuJiffies();
  return { load: busyPercent(a, b, opts.loadCpu), proxy: busyPercent(a, b, opts.proxyCpu) };
}

async function measure(
  c: RunningCandidate,
  upstreamPid: number,
  opts: BenchOptions,
  dir: string,
  round: number,
  seconds: number,
): Promise<RoundResult> {
  for (const f of c.logFiles ?? []) truncateSync(f, 0);
  const treeOf = () => [c.pid, ...(c.extraPids ?? [])].flatMap(processTree);
  const tree = treeOf();
  const upTree = processTree(upstreamPid);
  const j0 = cpuJiffies();
  const startedAt = Date.now();
  const t0 = process.hrtime.bigint();
  const cpu0 = cpuMicros(tree);
  const sw0 = contextSwitches();
  const up0 = cpuMicros(upTree);
  const res = await runWrk(c.load, {
    duration: seconds,
    connections: opts.connections,
    cpu: opts.loadCpu,
    dir,
  });
  const cpu1 = cpuMicros(treeOf());
  const sw1 = contextSwitches();
  const up1 = cpuMicros(upTree);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const j1 = cpuJiffies();
  const proxyCoreBusy = busyPercent(j0, j1, opts.proxyCpu);
  await sleep(200);
  const logBytes = (c.logFiles ?? []).reduce((a, f) => a + fileSize(f), 0);
  return {
    ...res,
    round,
    at: startedAt + wallUs / 2000,
    cpuUsPerReq: res.requests > 0 ? (cpu1 - cpu0) / res.requests : Number.NaN,
    upstreamUsPerReq: res.requests > 0 ? (up1 - up0) / res.requests : Number.NaN,
    proxyCoreBusy,
    foreignPercent: Math.max(
      0,
      busyPercent(j0, j1, opts.proxyCpu, 'task') - (100 * (cpu1 - cpu0 + up1 - up0)) / wallUs,
    ),
    proxyCoreIrq: busyPercent(j0, j1, opts.proxyCpu, 'irq'),
    loadCoreBusy: busyPercent(j0, j1, opts.loadCpu),
    logBytesPerReq: res.requests > 0 ? logBytes / res.requests : 0,
    switchesPerReq: res.requests > 0 ? (sw1 - sw0) / res.requests : Number.NaN,
  };
}

/** One measured run, repeated (up to `noisyRetries` times) while other processes disturb it. */
async function measureLeastDisturbed(
  id: string,
  c: RunningCandidate,
  upstreamPid: number,
  opts: BenchOptions,
  dir: string,
  round: number,
): Promise<RoundResult> {
  let best: RoundResult | undefined;
  for (let attempt = 0; ; attempt++) {
    const m = await measure(c, upstreamPid, opts, dir, round, opts.duration);
    if (!best || m.foreignPercent < best.foreignPercent) best = m;
    if (m.foreignPercent <= opts.maxOtherPercent || attempt >= opts.noisyRetries) return best;
    log(
      `  ${id}: other processes took ${m.foreignPercent.toFixed(0)} % of CPU ${opts.proxyCpu}; repeating the run`,
    );
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  const opts = readOptions();
  requireBinary('wrk', 'wrk');
  requireBinary('nginx', 'nginx-light');
  requireBinary('taskset', 'util-linux');
  if (cpus().length < 2)
    log('warning: fewer than 2 CPUs: load generator and proxy share a core; ratios will be meaningless');
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  if (process.env.BENCH_KEEP_DIR !== '1') onExit(() => rmSync(dir, { recursive: true, force: true }));
  const started = new Date();
  const cands = selectCandidates(opts.only);
  log(
    `gatehouse bench: ${cands.map((c) => c.id).join(', ')}\n` +
      `  ${opts.rounds} rounds × ${opts.duration}s (each after ${opts.roundWarmup}s unmeasured), warm-up ${opts.warmup}s, wrk -t1 -c${opts.connections} on CPU ${opts.loadCpu}, proxy + upstream on CPU ${opts.proxyCpu}; run dir ${dir}`,
  );
  const idle = await idleLoad(opts);
  if (idle.load > 10 || idle.proxy > 10)
    log(
      `warning: the machine is not idle (CPU ${opts.loadCpu} ${idle.load.toFixed(0)} %, CPU ${opts.proxyCpu} ${idle.proxy.toFixed(0)} % busy before start): figures will be noisy`,
    );

  let micro: MicroResults | undefined;
  if (!opts.skipMicro) {
    log('micro-benchmarks: route matching, identity propagation …');
    micro = await runMicro();
  }

  const { ctx, close } = await openBenchContext(opts, dir, log);
  const upstream = ctx.upstream;

  const running = new Map<string, RunningCandidate>();
  const status: StartStatus = new Map();
  const rounds = new Map<string, (RoundResult | undefined)[]>();
  const rss = new Map<string, number>();
  const notes: string[] = [];
  let closing: RoundResult | undefined;
  try {
    for (const c of cands) {
      log(`starting ${c.id} …`);
      try {
        running.set(c.id, await c.start(ctx));
        status.set(c.id, { status: 'measured' });
        rounds.set(c.id, []);
        log(`  ${c.id}: correctness gate passed`);
      } catch (e) {
        const skip = e instanceof SkipCandidate;
        status.set(c.id, { status: skip ? 'skipped' : 'failed', reason: (e as Error).message });
        log(`  ${c.id}: ${skip ? 'SKIPPED' : 'FAILED'}: ${(e as Error).message}`);
        if (c.id === 'nginx') throw new Error('the nginx reference did not start; nothing to compare with');
      }
    }

    for (const [id, c] of running) {
      log(`warm-up ${id} (${opts.warmup}s)`);
      await runWrk(c.load, { duration: opts.warmup, connections: opts.connections, cpu: opts.loadCpu, dir });
      await sleep(300);
    }

    for (let r = 0; r < opts.rounds; r++) {
      const line: string[] = [];
      for (const [id, c] of running) {
        let res: RoundResult | undefined;
        try {
          if (opts.roundWarmup > 0)
            await runWrk(c.load, {
              duration: opts.roundWarmup,
              connections: opts.connections,
              cpu: opts.loadCpu,
              dir,
            });
          res = await measureLeastDisturbed(id, c, upstream.pid, opts, dir, r + 1);
          line.push(`${id} ${Math.round(res.rps)}`);
          if (res.non2xx + res.socketErrors > 0)
            log(`  ${id}: ${res.non2xx} non-2xx, ${res.socketErrors} socket errors in round ${r + 1}`);
        } catch (e) {
          log(`  ${id}: round ${r + 1} failed: ${(e as Error).message}`);
        }
        rounds.get(id)?.push(res);
        await sleep(300);
      }
      log(`round ${r + 1}/${opts.rounds}: ${line.join(', ')}`);
    }
    // Closing reference run: the last round's candidates get a reference after them too.
    const ref = running.get('nginx');
    if (ref)
      closing = await measureLeastDisturbed('nginx', ref, upstream.pid, opts, dir, opts.rounds + 1).catch(
        () => undefined,
      );
    for (const [id, c] of running) {
      rss.set(id, peakRssKiB([c.pid, ...(c.extraPids ?? [])].flatMap(processTree)));
      if (c.notes)
        notes.push(...(await c.notes().catch((e: unknown) => [`${id}: notes failed: ${String(e)}`])));
    }
  } finally {
    for (const c of running.values()) await c.stop().catch(() => undefined);
    await close();
  }

  const sums = summarise(cands, rounds, closing, status, rss);
  const ref = rounds.get('nginx') ?? [];
  const saturated = ref.some((r) => r && r.loadCoreBusy > 95);
  const noisy = sums
    .flatMap((s) => s.rounds)
    .filter((r) => r && r.foreignPercent > opts.maxOtherPercent).length;
  const out: string[] = [];
  out.push('', `Gatehouse benchmark — ${started.toISOString()}`);
  out.push(
    `${opts.rounds} interleaved rounds × ${opts.duration}s per candidate (each right after ${opts.roundWarmup}s of unmeasured load; ${opts.warmup}s warm-up first), wrk -t1 -c${opts.connections} pinned to CPU ${opts.loadCpu}; ` +
      `proxy and nginx upstream (100-byte body) pinned to CPU ${opts.proxyCpu}. Ratios are medians of per-round paired ratios.`,
    '',
  );
  out.push(resultsTable(sums), '', 'Per-round requests/s:', '', roundsTable(sums, opts.rounds), '');
  const paired = pairedTable(sums, opts.rounds);
  if (paired)
    out.push(
      'Paired ratios to baseline rows (per round, each run against the baseline interpolated to its time):',
      '',
      paired,
      '',
    );
  out.push('Floors (reported, never fatal):', '', floorsTable(sums), '');
  if (notes.length)
    out.push('Read from the candidates after the rounds:', '', ...notes.map((n) => `  ${n}`), '');
  if (micro) out.push(...microLines(micro), '');
  const nr = notRun(sums);
  if (nr) out.push('Not measured:', nr, '');
  if (saturated)
    out.push(
      `warning: CPU ${opts.loadCpu} (wrk and anything else) was > 95 % busy during an nginx run: the load generator may have been the bottleneck.`,
    );
  if (noisy > 0)
    out.push(
      `warning: in ${noisy} run(s) other processes used > ${opts.maxOtherPercent} % of CPU ${opts.proxyCpu} (see "other %"): absolute rps is disturbed; CPU µs/req and the paired ratios less so.`,
    );
  if (idle.load > 10 || idle.proxy > 10)
    out.push(`warning: the machine was not idle at start (other processes on the CPUs); figures are noisy.`);
  process.stdout.write(out.join('\n') + '\n');

  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const json = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    method: '../shared/benchmarks.md',
    options: opts,
    environment: {
      node: process.version,
      nginx: version('nginx', ['-v']),
      wrk: version('wrk', ['-v']),
      cpu: cpus()[0]?.model ?? '',
      cpus: cpus().length,
      idleBusyPercentAtStart: idle,
      commit: version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
      kernel: readFileSync('/proc/version', 'utf8').trim(),
    },
    candidates: sums,
    micro: micro ?? { skipped: true },
  };
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  log(`wrote bench/results/latest.json`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`bench: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
