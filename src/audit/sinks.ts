import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

/** Where serialised audit lines go. `write` must not block on I/O. */
export interface AuditSink {
  write(line: string): void;
  /** Flushes buffered lines (and closes files). */
  close(): Promise<void>;
}

type Boom = ReturnType<typeof pino.destination>;

function closeBoom(boom: Boom, end: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if ((boom as unknown as { destroyed?: boolean }).destroyed) return resolve();
    if (!end) {
      boom.flush(() => resolve());
      return;
    }
    boom.once('close', () => resolve());
    boom.once('error', () => resolve());
    boom.end();
  });
}

/**
 * An append-only JSON-lines file. The file is opened synchronously with flag `a` (so a bad
 * path fails at start, and restarts append instead of truncating, O_APPEND on every write);
 * lines are buffered and written asynchronously by a sonic-boom destination, flushed on close
 * and at process exit.
 */
export function fileSink(path: string, onError: (e: Error) => void): AuditSink {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o640);
  let boom: Boom;
  try {
    boom = pino.destination({ fd, sync: false });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  boom.on('error', onError);
  return { write: (line) => void boom.write(line), close: () => closeBoom(boom, true) };
}

/** JSON lines on standard output (fd 1), buffered the same way; stdout is flushed, never closed. */
export function stdoutSink(onError: (e: Error) => void): AuditSink {
  const boom = pino.destination({ dest: 1, sync: false });
  boom.on('error', onError);
  return { write: (line) => void boom.write(line), close: () => closeBoom(boom, false) };
}

/** A sink over any writable-like object (tests, custom transports). */
export function streamSink(out: { write(chunk: string): unknown }): AuditSink {
  return { write: (line) => void out.write(line), close: async () => {} };
}
