import { loadConfigFile, ConfigError } from '../config/load.js';
import { Gateway } from '../server/gateway.js';
import { type CliIo, parseFlags } from './io.js';

/**
 * `gatehouse start -c FILE`: runs the gateway until SIGTERM/SIGINT, which drain in-flight
 * requests within `server.shutdown_timeout`. SIGHUP reloads the config file atomically.
 * `workers: auto|N` forks a cluster of N processes sharing the listeners.
 */
export async function runStart(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, error } = parseFlags(argv, { config: { alias: 'c', value: true } });
  if (error || typeof flags.config !== 'string') {
    io.stderr.write(`gatehouse start: ${error ?? 'missing -c FILE'}\nusage: gatehouse start -c FILE\n`);
    return 2;
  }
  const path = flags.config;
  let loaded;
  try {
    loaded = await loadConfigFile(path);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const workers = loaded.config.server.workers;
  const cluster = (await import('node:cluster')).default;
  if (workers !== 1 && cluster.isPrimary) {
    const { availableParallelism } = await import('node:os');
    const n = workers === 'auto' ? availableParallelism() : workers;
    io.stdout.write(`gatehouse: starting ${n} workers\n`);
    for (let i = 0; i < n; i++) cluster.fork();
    const stop = (sig: NodeJS.Signals) => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGTERM'));
    process.on('SIGHUP', () => stop('SIGHUP'));
    await new Promise<void>((resolve) =>
      cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && resolve()),
    );
    return 0;
  }
  let gw: Gateway;
  try {
    gw = Gateway.create({ config: loaded.config, baseDir: loaded.baseDir });
    await gw.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    io.stderr.write(`gatehouse: failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      gw.logger.info({ signal: sig }, 'shutting down: draining in-flight requests');
      gw.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      loadConfigFile(path)
        .then((l) => gw.reload(l.config))
        .catch((e: unknown) =>
          gw.logger.error(
            { err: e instanceof ConfigError ? e.message : e },
            'reload failed: keeping the running configuration',
          ),
        );
    });
  });
}
