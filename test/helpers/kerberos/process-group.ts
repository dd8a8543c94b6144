import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A server started in its own process group, stopped as a whole. */
export interface ProcessGroup {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Output (stdout and stderr) so far, last 4000 characters. */
  output(): string;
  /** A promise that rejects when the process exits (for racing against a readiness wait). */
  readonly exited: Promise<never>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the leader exited. */
  stop(graceMs?: number): Promise<void>;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone */
  }
}

/**
 * Spawns `bin` as the leader of a new process group (samba and Apache's prefork/event children
 * share it), with a watchdog shell that kills the group when this test process dies in any way
 * (also SIGKILL by the test runner's timeout), so no KDC or web server outlives its test file;
 * it then also removes `opts.removeOnDeath` (the server's temp dir).
 */
export function spawnGroup(
  bin: string,
  args: string[],
  opts: SpawnOptions & { removeOnDeath?: string } = {},
): ProcessGroup {
  const { removeOnDeath: _dir, ...spawnOpts } = opts;
  const child = spawn(bin, args, { ...spawnOpts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  let out = '';
  child.stdout?.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  child.stderr?.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  const watchdog = spawn(
    '/bin/sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 -${pid} 2>/dev/null; ` +
        (opts.removeOnDeath ? `sleep 1; rm -rf '${opts.removeOnDeath}'` : 'true'),
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${bin} exited (${code ?? signal})`))),
  );
  exited.catch(() => undefined);
  const stop = (graceMs = 3000) =>
    new Promise<void>((resolve) => {
      const done = () => {
        watchdog.kill('SIGKILL');
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup(pid, 'SIGKILL'); // children of an exited leader
        return done();
      }
      child.once('exit', () => {
        killGroup(pid, 'SIGKILL');
        done();
      });
      killGroup(pid, 'SIGTERM');
      setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs).unref();
    });
  return { child, pid, output: () => out, exited, stop };
}
