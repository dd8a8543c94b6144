/**
 * Starts benchmark candidates exactly as `npm run bench` does (same configs, pinning, tokens,
 * correctness gates) and keeps them running for profiling by hand: prints one JSON object with
 * each candidate's pid and load (URL, bearer token or token file) plus the run directory, then
 * waits until Ctrl-C or SIGTERM and stops everything.
 *
 * `BENCH_ONLY=gh-rs256-cold node --import tsx bench/hold.ts [out.json]`
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, type RecordingUpstream } from '../test/helpers/upstream.js';
import type { BenchContext, RunningCandidate } from './lib/candidate.js';
import { selectCandidates } from './lib/candidates.js';
import { startUpstreamNginx } from './lib/nginx.js';
import { readOptions } from './lib/options.js';

const opts = readOptions();
const dir = mkdtempSync(join(tmpdir(), 'gh-hold-'));
const upstream = await startUpstreamNginx(opts.proxyCpu);
let echo: Promise<RecordingUpstream> | undefined;
const teardown: (() => Promise<void> | void)[] = [];
const ctx: BenchContext = {
  opts,
  dir,
  upstream,
  echo: () => (echo ??= startUpstream()),
  shared: new Map(),
  cleanup: (fn) => teardown.push(fn),
  log: (line) => console.error(line),
};
const running: RunningCandidate[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const c of running) await c.stop().catch(() => undefined);
    for (const fn of teardown.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    await upstream.stop().catch(() => undefined);
    if (echo) await (await echo).close().catch(() => undefined);
    if (process.env.BENCH_KEEP_DIR !== '1') rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const out: Record<string, unknown> = { dir, upstreamPid: upstream.pid };
try {
  for (const c of selectCandidates(opts.only)) {
    const r = await c.start(ctx);
    running.push(r);
    out[c.id] = { pid: r.pid, load: r.load, logFiles: r.logFiles };
  }
} catch (e) {
  console.error(`hold: ${(e as Error).message}`);
  await stop(1);
}
const json = JSON.stringify(out, null, 1);
if (process.argv[2]) writeFileSync(process.argv[2], json);
else console.log(json);
console.error('hold: running; Ctrl-C stops every process');
setInterval(() => undefined, 1 << 30);
