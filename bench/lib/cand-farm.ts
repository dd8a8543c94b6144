import { shared, type BenchContext, type Candidate } from './candidate.js';
import { gatePlain, launchGatehouse } from './cand-core.js';
import { expectStatus, httpGet } from './http.js';
import { startNginxProxy, startUpstreamNginx, type RunningNginx } from './nginx.js';

/**
 * Two-target upstream rows (issue 14, "Done when"): Gatehouse with `targets:` over two nginx
 * upstreams (the shared one and a second instance, both `return 200`), compared with nginx
 * `proxy_pass` to a two-server `upstream {}` block over the same two upstreams in the same run.
 */

/** The second upstream nginx, started once per run and stopped with the shared helpers. */
function secondUpstream(ctx: BenchContext): Promise<RunningNginx> {
  return shared(ctx, 'farm-upstream-2', async () => {
    const up = await startUpstreamNginx(ctx.opts.proxyCpu);
    ctx.cleanup(() => up.stop());
    return up;
  });
}

/** The reference of the farm row: nginx proxy_pass to a two-server upstream block. */
export const nginxFarm: Candidate = {
  id: 'nginx-farm',
  label: 'nginx proxy_pass to a 2-server upstream {} block',
  floors: [],
  async start(ctx) {
    const second = await secondUpstream(ctx);
    const px = await startNginxProxy([ctx.upstream.port, second.port], ctx.opts.proxyCpu);
    try {
      await gatePlain('nginx-farm', px.url);
    } catch (e) {
      await px.stop();
      throw e;
    }
    return { pid: px.pid, load: { url: `${px.url}/bench` }, stop: () => px.stop() };
  },
};

/** Gatehouse, `auth: none`, an upstream with two targets (round robin), compared with nginx-farm. */
export const gatehouseFarm: Candidate = {
  id: 'gh-farm',
  label: 'Gatehouse plain proxy, 2-target upstream (round robin)',
  relativeTo: 'nginx-farm',
  floors: [],
  async start(ctx) {
    const second = await secondUpstream(ctx);
    const { gh, logFiles } = await launchGatehouse(ctx, 'gh-farm', {
      route: { auth: 'none', upstream: { targets: [{ url: ctx.upstream.url }, { url: second.url }] } },
      gateRoute: { auth: 'none' },
    });
    try {
      for (let i = 0; i < 4; i++) await gatePlain('gh-farm', gh.url);
      // Both targets took requests: read the per-target counters.
      const m = await httpGet(`${gh.url}/.gatehouse/metrics`);
      expectStatus('gh-farm: metrics', m, 200);
      for (const u of [ctx.upstream.url, second.url]) {
        const line = m.body
          .split('\n')
          .find(
            (l) => l.startsWith('gatehouse_upstream_target_requests_total{') && l.includes(`target="${u}"`),
          );
        if (!line || !(Number(line.split(' ').pop()) >= 2))
          throw new Error(`gh-farm: target ${u} did not get its share: ${line ?? 'no series'}`);
      }
    } catch (e) {
      await gh.stop();
      throw e;
    }
    return { pid: gh.pid, load: { url: `${gh.url}/bench` }, logFiles, stop: () => gh.stop() };
  },
};
