import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './ports.js';
import { requireBinary } from './binaries.js';

export interface NginxServer {
  readonly dir: string;
  stop(): Promise<void>;
  readonly pid: number;
}

/**
 * Starts a real nginx in the foreground with `httpBlock` as the body of its `http {}` block.
 * `probePort` is polled until nginx accepts connections.
 */
export async function startNginx(
  httpBlock: string,
  probePort: number,
  opts: { cpu?: number | string; workers?: number } = {},
): Promise<NginxServer> {
  const bin = requireBinary('nginx', 'nginx-light');
  const dir = mkdtempSync(join(tmpdir(), 'gh-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const conf = `worker_processes ${opts.workers ?? 1};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${httpBlock}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf')];
  const cmd = opts.cpu !== undefined ? 'taskset' : bin;
  const argv = opts.cpu !== undefined ? ['-c', String(opts.cpu), bin, ...args] : args;
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const { connect } = await import('node:net');
  try {
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
          const s = connect(probePort, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      10_000,
      `nginx on port ${probePort}`,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${(e as Error).message} ${stderr}`);
  }
  return {
    dir,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
