import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ReloadResult } from './reload.js';

/** Quiet time after the last change before reloading (editors write in several steps). */
export const WATCH_DEBOUNCE_MS = 300;

/** SHA-256 of the file's bytes, or undefined when it cannot be read. */
export async function fileDigest(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * `server.watch_config`: reloads when the config file's content changes. Watches the directory
 * (editors and `kubectl`/ConfigMap updates replace the file by rename, which a watch on the file
 * itself would lose), debounces, skips saves that leave the content unchanged and reloads like
 * SIGHUP (validated, atomic, a broken file keeps the running config and is logged).
 * `loadedDigest` is the {@link fileDigest} taken when the running config was read.
 */
export async function watchConfig(
  file: string,
  reload: () => Promise<ReloadResult>,
  logger: Logger,
  loadedDigest?: string,
): Promise<{ close(): void }> {
  const abs = resolve(file);
  const name = basename(abs);
  // The digest of what was loaded, taken before serving: a save made while the process was
  // starting is still seen as a change.
  let last = loadedDigest ?? (await fileDigest(abs));
  let timer: NodeJS.Timeout | undefined;
  const fire = async () => {
    const now = await fileDigest(abs);
    if (now === undefined || now === last) return;
    last = now;
    logger.info({ file: abs }, 'config file changed: reloading');
    const r = await reload();
    if (!r.ok)
      logger.error(
        { file: abs, errors: r.errors },
        'config watch: reload failed, keeping the running configuration',
      );
  };
  const watcher: FSWatcher = watch(dirname(abs), (_event, changed) => {
    if (changed !== null && changed !== name && !changed.startsWith(`${name}`)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void fire(), WATCH_DEBOUNCE_MS);
  });
  watcher.on('error', (e) => logger.error({ err: e.message }, 'config watch failed'));
  logger.info({ file: abs }, 'watching the config file for changes (server.watch_config)');
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
