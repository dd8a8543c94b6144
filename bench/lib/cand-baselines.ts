import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { gatePlain } from './cand-core.js';
import { ROOT } from './gatehouse.js';
import { httpGet } from './http.js';
import { spawnPinned, stopChild } from './procs.js';

async function waitUp(url: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      await httpGet(url);
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A baseline proxy script in bench/baselines/, started pinned to the proxy CPU. */
function baseline(id: string, script: string, label: string, optIn: boolean): Candidate {
  return {
    id,
    label,
    floors: [],
    optIn,
    async start(ctx: BenchContext): Promise<RunningCandidate> {
      const port = await freePort();
      const child = spawnPinned(
        ctx.opts.proxyCpu,
        process.execPath,
        [join(ROOT, 'bench/baselines', script), String(port), ctx.upstream.url],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const url = `http://127.0.0.1:${port}`;
      await waitUp(`${url}/bench`, 10_000);
      await gatePlain(id, url);
      return { pid: child.pid ?? 0, load: { url: `${url}/bench` }, stop: () => stopChild(child) };
    },
  };
}

/** The naive node:http + undici Pool proxy of ../shared/benchmarks.md (reference ratio 0.36). */
export const naiveNode = baseline(
  'base-naive',
  'naive.mjs',
  'naive node:http + undici Pool, no auth, no log (baseline)',
  false,
);
export const rawClient = baseline(
  'exp-rawclient',
  'rawclient.mjs',
  'experiment: node:http + raw upstream socket',
  true,
);
export const rawAll = baseline(
  'exp-rawall',
  'rawall.mjs',
  'experiment: raw net server + raw upstream socket',
  true,
);
