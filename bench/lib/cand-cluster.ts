import { rmSync } from 'node:fs';
import { startNginx } from '../../test/helpers/nginx.js';
import { freePort } from '../../test/helpers/ports.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { gatePlain, launchGatehouse } from './cand-core.js';
import { disown, own } from './procs.js';

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
    const port = await freePort();
    const srv = await startNginx(
      `  upstream bench_backend {
    server 127.0.0.1:${ctx.upstream.port};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    location / {
      proxy_pass http://bench_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
      port,
      // startNginx passes `cpu` to `taskset -c` as text: a CPU list works as well as one CPU.
      { cpu: cpuSet(ctx) as unknown as number, workers: 2 },
    );
    own(srv.pid);
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      await srv.stop();
      disown(srv.pid);
      rmSync(srv.dir, { recursive: true, force: true });
    };
    try {
      await gatePlain('nginx-2w', url);
    } catch (e) {
      await stop();
      throw e;
    }
    return { pid: srv.pid, load: { url: `${url}/bench` }, stop };
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
