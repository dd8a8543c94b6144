import { LineSink } from '../log/sink.js';

/** Where serialised audit lines go. `write` must not block on I/O. */
export interface AuditSink {
  write(line: string): void;
  /** Flushes buffered lines (and closes files). */
  close(): Promise<void>;
}

/**
 * An append-only JSON-lines file, opened synchronously with flag `a` and mode 0640 (a bad path
 * fails at start, restarts append instead of truncating, O_APPEND on every write). Lines are
 * batched in memory and written every 32 KiB or 250 ms, flushed on close and at process exit.
 */
export function fileSink(path: string, onError: (e: Error) => void): AuditSink {
  return lineSink(new LineSink(path, { mode: 0o640, onError }));
}

/** JSON lines on standard output (fd 1), batched the same way; stdout is flushed, never closed. */
export function stdoutSink(onError: (e: Error) => void): AuditSink {
  return lineSink(new LineSink(1, { onError }));
}

function lineSink(sink: LineSink): AuditSink {
  const onExit = () => sink.flush();
  process.once('exit', onExit);
  return {
    write: (line) => void sink.write(line),
    close: async () => {
      process.removeListener('exit', onExit);
      sink.end();
    },
  };
}

/** A sink over any writable-like object (tests, custom transports). */
export function streamSink(out: { write(chunk: string): unknown }): AuditSink {
  return { write: (line) => void out.write(line), close: async () => {} };
}
