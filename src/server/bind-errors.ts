import { ConfigError } from '../config/load.js';
import { GatehouseError } from '../errors/error.js';

/**
 * Listeners are bound one at a time (so a failure can close those already bound); an error
 * from binding listener `index` alone names `server.listeners[0]`. This restores the real index
 * in config problems and turns a socket error (EADDRINUSE, EACCES…) into `GH_LISTEN_FAILED`.
 */
export function reindexListenerError(e: unknown, index: number): unknown {
  if (e instanceof ConfigError) {
    return new ConfigError(
      e.problems.map((p) => ({
        ...p,
        path: p.path.replace(/^server\.listeners\[0\]/, `server.listeners[${index}]`),
      })),
      e.file,
    );
  }
  const err = e as NodeJS.ErrnoException;
  if (typeof err.code === 'string' && typeof err.syscall === 'string') {
    return new GatehouseError('GH_LISTEN_FAILED', `server.listeners[${index}]: ${err.message}`, {
      cause: e,
    });
  }
  return e;
}
