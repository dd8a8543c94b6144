import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireBinary } from '../../test/helpers/binaries.js';
import { SkipCandidate } from './gatehouse.js';
import { spawnPinned, stopChild } from './procs.js';

/** How to get haproxy on Debian; printed when a haproxy row is skipped. */
export const HAPROXY_INSTALL_HINT = 'apt-get install -y --no-install-recommends haproxy';

/** The installed haproxy: binary path and version (major, minor). */
export interface HaproxyBinary {
  readonly bin: string;
  readonly version: string;
  readonly major: number;
  readonly minor: number;
}

let found: HaproxyBinary | undefined;

/**
 * The haproxy binary, or a {@link SkipCandidate} with the install hint when it is missing or
 * older than `min` (`jwt_verify` needs 2.5).
 */
export function haproxyBinary(min: readonly [number, number] = [2, 0]): HaproxyBinary {
  if (!found) {
    let bin: string;
    try {
      bin = requireBinary('haproxy', 'haproxy');
    } catch {
      throw new SkipCandidate(`haproxy is not installed (${HAPROXY_INSTALL_HINT})`);
    }
    const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
    const m = /version (\d+)\.(\d+)[^\s]*/i.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    if (!m) throw new SkipCandidate(`"${bin} -v" printed no version (${HAPROXY_INSTALL_HINT})`);
    found = { bin, version: m[0].replace(/^version /i, ''), major: Number(m[1]), minor: Number(m[2]) };
  }
  const { major, minor, version } = found;
  if (major < min[0] || (major === min[0] && minor < min[1]))
    throw new SkipCandidate(`haproxy ${version} is older than ${min.join('.')} (${HAPROXY_INSTALL_HINT})`);
  return found;
}

/** One `frontend` of the generated config: a listener, its `http-request` rules and a server. */
export interface HaproxyFrontend {
  readonly name: string;
  /** Port the frontend binds on 127.0.0.1. */
  readonly port: number;
  /** `http-request …` lines (without indentation), evaluated in order. */
  readonly rules: readonly string[];
  /** Port of the (only) server of this frontend's backend, on 127.0.0.1. */
  readonly serverPort: number;
}

/** A running haproxy (one process, one thread). */
export interface RunningHaproxy {
  readonly pid: number;
  readonly configFile: string;
  stop(): Promise<void>;
}

/**
 * The config: `nbthread 1`, HTTP keep-alive on both sides, `http-reuse always` (idle server
 * connections shared between client connections, like nginx's `keepalive` pool), no logging
 * (as the nginx reference), one frontend → backend pair per entry of `frontends`.
 */
export function haproxyConfig(frontends: readonly HaproxyFrontend[]): string {
  const out = [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  http-reuse always',
    '  timeout connect 5s',
    '  timeout client 300s',
    '  timeout server 300s',
    '  timeout http-keep-alive 300s',
  ];
  for (const f of frontends) {
    out.push(
      `frontend ${f.name}`,
      `  bind 127.0.0.1:${f.port} backlog 4096`,
      ...f.rules.map((r) => `  ${r}`),
      `  default_backend ${f.name}_servers`,
      `backend ${f.name}_servers`,
      `  server s1 127.0.0.1:${f.serverPort}`,
    );
  }
  return out.join('\n') + '\n';
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Writes `<dir>/<id>.haproxy.cfg`, checks it (`haproxy -c`: a rejected config is an error, not
 * a skip), starts `taskset -c <cpu> haproxy -f cfg -db` in the foreground as a child of the
 * runner and waits until every frontend accepts connections.
 */
export async function startHaproxy(
  id: string,
  frontends: readonly HaproxyFrontend[],
  opts: { readonly dir: string; readonly cpu: number | string; readonly min?: readonly [number, number] },
): Promise<RunningHaproxy> {
  const { bin } = haproxyBinary(opts.min);
  const configFile = join(opts.dir, `${id}.haproxy.cfg`);
  writeFileSync(configFile, haproxyConfig(frontends));
  const check = spawnSync(bin, ['-c', '-q', '-f', configFile], { encoding: 'utf8', timeout: 10_000 });
  if (check.status !== 0)
    throw new Error(`haproxy rejected ${configFile}:\n${(check.stdout + check.stderr).trim()}`);
  const child = spawnPinned(opts.cpu, bin, ['-f', configFile, '-db'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
  const deadline = Date.now() + 10_000;
  for (const f of frontends) {
    while (!(await accepts(f.port))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await stopChild(child, 'SIGKILL');
        throw new Error(`haproxy (${id}) did not start listening on ${f.port}:\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { pid: child.pid ?? 0, configFile, stop: () => stopChild(child, 'SIGTERM', 3000) };
}
