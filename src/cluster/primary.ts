import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { compileState } from '../config/compile.js';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { ReloadQueue, reloadFailure, type ReloadResult } from '../control/reload.js';
import type { CliIo } from '../cli/io.js';
import { startLifecycle } from '../control/lifecycle.js';
import { Supervisor } from './supervisor.js';
import { workerCount } from './shared-state.js';

/**
 * Validates the config file as `gatehouse validate` does (schema and semantic checks, no
 * network, nothing bound): the primary's gate before any worker is told to reload.
 */
async function validateFile(file: string, logger: Logger): Promise<ReloadResult> {
  try {
    const { config, baseDir } = await loadConfigFile(file);
    const state = compileState(config, { logger, baseDir, dryRun: true });
    await state.close();
    return { ok: true, message: 'valid' };
  } catch (e) {
    return reloadFailure(e);
  }
}

/**
 * The cluster primary (`server.workers` ≠ 1): serves nothing itself. Forks the workers
 * (which share the listeners through Node's cluster module), respawns dead ones with backoff,
 * ends the process non-zero on a crash loop or a worker that cannot start, drains every worker on
 * SIGTERM/SIGINT, and on SIGHUP / `gatehouse reload` / a config-file change validates the file
 * before telling the workers to reload (a bad file keeps every worker on the running config).
 */
export async function runPrimary(
  file: string,
  loaded: LoadedConfig,
  io: CliIo,
  digest?: string,
): Promise<number> {
  const { config } = loaded;
  const log = createLogger({ level: config.log.level, file: config.log.file });
  const logger = log.logger.child({ role: 'primary' });
  const check = await validateFile(file, logger);
  if (!check.ok) {
    io.stderr.write(`gatehouse: ${check.errors.join('\n')}\n`);
    return 1;
  }
  const n = workerCount(config.server.workers, availableParallelism());
  const sup = new Supervisor(n, logger, config.server.shutdown_timeout);
  const queue = new ReloadQueue(async () => {
    const valid = await validateFile(file, logger);
    if (!valid.ok) return valid;
    return sup.reload();
  });
  const reload = async (): Promise<ReloadResult> => {
    const r = await queue.request();
    if (r.ok) logger.info(r.message);
    else logger.error({ errors: r.errors }, 'reload failed: every worker keeps the running configuration');
    return r;
  };
  io.stdout.write(`gatehouse: starting ${n} workers\n`);
  const lifecycle = await startLifecycle(file, config, reload, logger, digest);
  sup.start();
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ signal: sig }, 'stopping: draining every worker');
    void sup.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => void reload());
  const reopen = () => sup.signal('SIGUSR1');
  process.on('SIGUSR1', reopen);
  const end = await sup.done;
  await lifecycle.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGUSR1', reopen);
  log.close();
  switch (end.kind) {
    case 'stopped':
      return end.forced ? 1 : 0;
    case 'start-failed':
      io.stderr.write(`gatehouse: failed to start: ${end.error}\n`);
      return 1;
    case 'crash-loop':
      io.stderr.write(
        `gatehouse: GH_CLUSTER_CRASH_LOOP: workers crashed ${end.crashes} times within 60 s; see the log\n`,
      );
      return 1;
  }
}
