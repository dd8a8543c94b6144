import cluster from 'node:cluster';
import { loadConfigFile, ConfigError, type LoadedConfig } from '../config/load.js';
import { GatehouseError } from '../errors/error.js';
import { Gateway } from '../server/gateway.js';
import { ReloadQueue, type ReloadResult } from '../control/reload.js';
import { startLifecycle } from '../control/lifecycle.js';
import { fileDigest } from '../control/watch.js';
import { type CliIo, parseFlags } from './io.js';
import { tuneGc } from '../util/gc-tuning.js';

function describeFailure(e: unknown): string {
  if (e instanceof ConfigError) return e.message;
  if (e instanceof GatehouseError) return `${e.code}: ${e.detail ?? e.message}`;
  return (e as Error).message;
}

/**
 * Runs one serving process (alone, or as a cluster worker) until SIGTERM/SIGINT. Either it
 * serves or it returns 1 with every listener closed: a fatal start error (port in use,
 * unreadable certificate) never leaves a process holding ports without serving.
 */
async function runInstance(
  path: string,
  loaded: LoadedConfig,
  io: CliIo,
  digest: string | undefined,
): Promise<number> {
  const worker = cluster.isWorker;
  const { attachWorker, reportStart } = worker
    ? await import('../cluster/worker.js')
    : { attachWorker: undefined, reportStart: undefined };
  let gw: Gateway;
  try {
    gw = Gateway.create({ config: loaded.config, baseDir: loaded.baseDir, configFile: path });
  } catch (e) {
    io.stderr.write(`${describeFailure(e)}\n`);
    reportStart?.(describeFailure(e));
    return 1;
  }
  const gc = tuneGc();
  gw.logger.info(
    { v8_flags: gc.flags },
    gc.oneCpu
      ? 'V8 collector tuned; one CPU available to this process: V8 parallel scavenging off (its helpers would share that CPU)'
      : 'V8 collector tuned: the young generation regrows in one step after idle',
  );
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const queue = new ReloadQueue(async (): Promise<ReloadResult> => {
    await started;
    const l = await loadConfigFile(path);
    await gw.reload(l.config);
    return { ok: true, message: `configuration reloaded (${gw.state.routes.length} routes)` };
  });
  const reload = async (): Promise<ReloadResult> => {
    const r = await queue.request();
    if (!r.ok) gw.logger.error({ errors: r.errors }, 'reload failed: keeping the running configuration');
    return r;
  };
  // Reload triggers exist before the gateway reports ready (a reload asked meanwhile waits for
  // the start), so whoever sees ready can also reach the control channel.
  const lifecycle = worker ? undefined : await startLifecycle(path, loaded.config, reload, gw.logger, digest);
  try {
    await gw.start();
  } catch (e) {
    io.stderr.write(`gatehouse: failed to start: ${describeFailure(e)}\n`);
    gw.logger.fatal({ err: describeFailure(e) }, 'failed to start: every listener closed');
    reportStart?.(describeFailure(e));
    await lifecycle?.close();
    await gw.close(0).catch(() => undefined);
    return 1;
  }
  markStarted();
  if (worker) {
    attachWorker?.({ reload, metrics: gw.recorder.metrics, logger: gw.logger });
    reportStart?.();
  } else process.on('SIGHUP', () => void reload());
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      gw.logger.info({ signal: sig }, 'shutting down: draining in-flight requests');
      void lifecycle?.close();
      const done = (code: number) => {
        // A worker's IPC channel would keep it alive: let go of it once drained.
        if (worker && process.connected) process.disconnect();
        resolve(code);
      };
      gw.close().then(
        () => done(0),
        () => done(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    if (worker) process.once('disconnect', () => stop('primary gone'));
  });
}

/**
 * `gatehouse start -c FILE`: runs the gateway until SIGTERM/SIGINT, which drain in-flight
 * requests within `server.shutdown_timeout`. SIGHUP, `gatehouse reload` and (opt-in) a change of
 * the file reload it atomically. `workers: auto|N` (N ≠ 1) runs a supervising primary
 * (`src/cluster/primary.ts`) and N workers sharing the listeners.
 */
export async function runStart(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, error } = parseFlags(argv, { config: { alias: 'c', value: true } });
  if (error || typeof flags.config !== 'string') {
    io.stderr.write(`gatehouse start: ${error ?? 'missing -c FILE'}\nusage: gatehouse start -c FILE\n`);
    return 2;
  }
  const path = flags.config;
  let loaded;
  let digest: string | undefined;
  try {
    digest = await fileDigest(path);
    loaded = await loadConfigFile(path);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (cluster.isPrimary && loaded.config.server.workers !== 1) {
    const { runPrimary } = await import('../cluster/primary.js');
    return runPrimary(path, loaded, io, digest);
  }
  return runInstance(path, loaded, io, digest);
}
