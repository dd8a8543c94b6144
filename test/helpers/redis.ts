import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, waitFor } from './ports.js';
import { requireBinary } from './binaries.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stop the server (SIGKILL when `hard`), e.g. to test outages. */
  stop(hard?: boolean): Promise<void>;
  /** Start it again on the same port after `stop`. */
  restart(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      s.destroy();
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      resolve(false);
      s.destroy();
    });
  });
}

/** Arguments for a throw-away `redis-server` on loopback: no persistence, no protected mode. */
export function redisServerArgs(port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
  ];
}

/** Starts a real, throw-away `redis-server` on an ephemeral loopback port. */
export async function startRedis(): Promise<RedisServer> {
  const bin = requireBinary('redis-server', 'redis-server');
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, redisServerArgs(port), {
      stdio: 'ignore',
    });
    await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`);
  };
  await launch();
  const stop = async (hard = false) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  };
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: launch };
}
