import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.js';
import { defaultControlPath } from './paths.js';
import type { ReloadResult } from './reload.js';
import { startControlServer } from './server.js';
import { watchConfig } from './watch.js';

/** The reload triggers that do not need signals, and how to stop them. */
export interface Lifecycle {
  readonly controlPath: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the reload triggers of the process that owns reloads (a single process, or the cluster
 * primary): the control channel (`server.control`, default on) and the config-file watch
 * (`server.watch_config`, default off). Neither is fatal: a control socket that cannot be created
 * (read-only directory, another instance on it) is logged and `gatehouse reload` then cannot
 * reach this instance; SIGHUP still works.
 */
export async function startLifecycle(
  file: string,
  config: GatehouseConfig,
  reload: () => Promise<ReloadResult>,
  logger: Logger,
  loadedDigest?: string,
): Promise<Lifecycle> {
  let control: { close(): Promise<void> } | undefined;
  let controlPath: string | undefined;
  if (config.server.control.enabled) {
    const path = config.server.control.socket ?? defaultControlPath(file);
    try {
      control = await startControlServer(path, { reload }, logger);
      controlPath = path;
    } catch (e) {
      logger.error(
        { socket: path, err: (e as Error).message },
        'control channel not started: `gatehouse reload` cannot reach this instance (set server.control.socket)',
      );
    }
  }
  const watcher = config.server.watch_config
    ? await watchConfig(file, reload, logger, loadedDigest)
    : undefined;
  return {
    controlPath,
    async close() {
      watcher?.close();
      await control?.close();
    },
  };
}
