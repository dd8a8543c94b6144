import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { gatePlain } from './cand-core.js';
import { ROOT } from './gatehouse.js';
import { httpGet } from './http.js';
import { spawnPinned, stopChild } from './procs.js';

/** Calls `f` until it resolves (a baseline still starting refuses connections) or `deadlineMs` passes. */
async function retry(f: () => Promise<unknown>, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      await f();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Extra arguments of a baseline script after its port and upstream URL (e.g. a certificate), and
 * for a TLS baseline the check that replaces the plain one (called until it passes or 10 s).
 */
export type BaselineArgs = (
  ctx: BenchContext,
) => Promise<{ readonly args: readonly string[]; readonly tlsGate?: (url: string) => Promise<void> }>;

/**
 * A baseline proxy script in bench/baselines/, started pinned to the proxy CPU. With `extra`
 * returning a `tlsGate`, the baseline listens with TLS and is checked over https.
 */
export function baseline(
  id: string,
  script: string,
  label: string,
  optIn: boolean,
  extra?: BaselineArgs,
  relativeTo?: string,
): Candidate {
  return {
    id,
    label,
    floors: [],
    optIn,
    relativeTo,
    async start(ctx: BenchContext): Promise<RunningCandidate> {
      const port = await freePort();
      const more = extra ? await extra(ctx) : { args: [] };
      const child = spawnPinned(
        ctx.opts.proxyCpu,
        process.execPath,
        [join(ROOT, 'bench/baselines', script), String(port), ctx.upstream.url, ...more.args],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const tlsGate = more.tlsGate;
      const url = `${tlsGate ? 'https' : 'http'}://127.0.0.1:${port}`;
      try {
        if (tlsGate) await retry(() => tlsGate(url), 10_000);
        else {
          await retry(() => httpGet(`${url}/bench`), 10_000);
          await gatePlain(id, url);
        }
      } catch (e) {
        await stopChild(child);
        throw e;
      }
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
/**
 * The cheapest Node proxy (bytes piped between a client connection and an upstream connection of
 * its own, no HTTP work): the ceiling any Node proxy has on this core, next to nginx.
 */
export const nodePipe = baseline(
  'base-pipe',
  'pipe.mjs',
  'Node byte pipe, one upstream connection per client, no HTTP parsing (ceiling of a Node proxy)',
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
