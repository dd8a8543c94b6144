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
import type { RunningCandidate } from './lib/candidate.js';
import { selectCandidates } from './lib/candidates.js';
import { openBenchContext } from './lib/context.js';
import { readOptions } from './lib/options.js';

const opts = readOptions();
const dir = mkdtempSync(join(tmpdir(), 'gh-hold-'));
const { ctx, close } = await openBenchContext(opts, dir, (line) => console.error(line));
const running: RunningCandidate[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const c of running) await c.stop().catch(() => undefined);
    await close().catch(() => undefined);
    if (process.env.BENCH_KEEP_DIR !== '1') rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const out: Record<string, unknown> = { dir, upstreamPid: ctx.upstream.pid };
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
