import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { gatePlain, launchGatehouse } from './cand-core.js';
import { startNginxProxy } from './nginx.js';

/**
 * `workers: 2` rows (issue 14, "Done when"): Gatehouse with two workers (plus its primary, which
 * serves nothing) against nginx with two worker processes, both confined to the same CPU set
 * (the load and proxy CPUs, `taskset -c L,P`) so they compete with wrk the same way. The single
 * pinned rows (`gh-plain` vs `nginx`) measure per-core efficiency; these measure the deployment
 * shape with two processes.
 */
function cpuSet(ctx: BenchContext): string {
  return `${ctx.opts.loadCpu},${ctx.opts.proxyCpu}`;
}

/** nginx `proxy_pass` through a keep-alive pool with 2 workers on {@link cpuSet}. */
export const nginxTwoWorkers: Candidate = {
  id: 'nginx-2w',
  label: 'nginx proxy_pass, 2 workers, on the load+proxy CPUs',
  floors: [],
  async start(ctx: BenchContext): Promise<RunningCandidate> {
    const px = await startNginxProxy([ctx.upstream.port], cpuSet(ctx), { workers: 2 });
    try {
      await gatePlain('nginx-2w', px.url);
    } catch (e) {
      await px.stop();
      throw e;
    }
    return { pid: px.pid, load: { url: `${px.url}/bench` }, stop: () => px.stop() };
  },
};

/** Gatehouse plain proxy with `workers: 2` on the same CPUs as nginx-2w; compared with it. */
export const gatehouseTwoWorkers: Candidate = {
  id: 'gh-2w',
  label: 'Gatehouse plain proxy, workers: 2, on the load+proxy CPUs',
  relativeTo: 'nginx-2w',
  floors: [],
  async start(ctx) {
    const { gh, logFiles } = await launchGatehouse(
      ctx,
      'gh-2w',
      { route: { auth: 'none' }, server: { workers: 2 } },
      cpuSet(ctx),
    );
    try {
      await gatePlain('gh-2w', gh.url);
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return { pid: gh.pid, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
  },
};
