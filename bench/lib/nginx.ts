import { rmSync } from 'node:fs';
import { startNginx, type NginxServer } from '../../test/helpers/nginx.js';
import { freePort } from '../../test/helpers/ports.js';
import { disown, own } from './procs.js';

/** The upstream's response body: 100 bytes, as in ../shared/benchmarks.md. */
export const UPSTREAM_BODY = 'gatehouse-bench upstream: hello from nginx. '.padEnd(100, '.');

/** A running nginx with the port it serves on. */
export interface RunningNginx {
  readonly port: number;
  readonly url: string;
  /** Master pid; CPU and RSS are read over the master and its workers. */
  readonly pid: number;
  stop(): Promise<void>;
}

async function launch(block: string, port: number, cpu: number): Promise<RunningNginx> {
  const srv: NginxServer = await startNginx(block, port, { cpu, workers: 1 });
  own(srv.pid);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: srv.pid,
    stop: async () => {
      await srv.stop();
      disown(srv.pid);
      rmSync(srv.dir, { recursive: true, force: true });
    },
  };
}

/** The upstream: nginx `return 200` with a 100-byte body, 1 worker, pinned to `cpu`. */
export async function startUpstreamNginx(cpu: number): Promise<RunningNginx> {
  const port = await freePort();
  return launch(
    `  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    location / {
      default_type text/plain;
      return 200 ${JSON.stringify(UPSTREAM_BODY)};
    }
  }`,
    port,
    cpu,
  );
}

/**
 * The reference: nginx `proxy_pass` to the upstream through a keep-alive pool (HTTP/1.1,
 * `Connection` cleared), its own instance with 1 worker pinned to `cpu`.
 */
export async function startReferenceProxy(upstreamPort: number, cpu: number): Promise<RunningNginx> {
  const port = await freePort();
  return launch(
    `  upstream bench_backend {
    server 127.0.0.1:${upstreamPort};
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
    cpu,
  );
}
