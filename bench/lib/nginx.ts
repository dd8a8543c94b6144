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

async function launch(
  block: string,
  port: number,
  cpu: number | string,
  workers = 1,
  scheme: 'http' | 'https' = 'http',
): Promise<RunningNginx> {
  const srv: NginxServer = await startNginx(block, port, { cpu, workers });
  own(srv.pid);
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
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

/** How {@link startNginxProxy} differs from the reference set-up. */
export interface NginxProxyOptions {
  /** Worker processes (default 1). */
  readonly workers?: number;
  /** Terminate TLS with this certificate and key (PEM paths), TLS 1.2 and 1.3. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/**
 * nginx `proxy_pass` to `upstreamPorts` (round robin) through a keep-alive pool (HTTP/1.1,
 * `Connection` cleared), its own instance pinned to `cpu` (one CPU or a `taskset` list).
 */
export async function startNginxProxy(
  upstreamPorts: readonly number[],
  cpu: number | string,
  opts: NginxProxyOptions = {},
): Promise<RunningNginx> {
  const port = await freePort();
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const tls = opts.tls
    ? `\n    ssl_certificate ${opts.tls.cert};\n    ssl_certificate_key ${opts.tls.key};\n    ssl_protocols TLSv1.2 TLSv1.3;`
    : '';
  return launch(
    `  upstream bench_backend {
${servers}
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port}${opts.tls ? ' ssl' : ''} backlog=4096;${tls}
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
    opts.workers ?? 1,
    opts.tls ? 'https' : 'http',
  );
}

/** The reference: nginx `proxy_pass` to the upstream, 1 worker pinned to `cpu`. */
export function startReferenceProxy(upstreamPort: number, cpu: number): Promise<RunningNginx> {
  return startNginxProxy([upstreamPort], cpu);
}
