import { pino, type Logger, type DestinationStream } from 'pino';
import { LineSink } from './sink.js';

export type { Logger };

/** Logger options from the `log` config section. */
export interface LoggerOptions {
  readonly level: string;
  readonly file?: string | undefined;
  /** A stream to write to instead (tests capture lines this way). */
  readonly destination?: DestinationStream | undefined;
}

/** The logger and the line destination it writes to (shared with the access log). */
export interface LogOutput {
  readonly logger: Logger;
  readonly destination: DestinationStream;
  /** Writes buffered lines now. */
  flush(): void;
  /** Flushes, stops the flush timer and closes the log file. */
  close(): void;
}

/** A logger that writes nothing (validate, explain, tests of compile-time behaviour). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Builds the pino logger once. Lines (pino's and the access log's) go to one {@link LineSink}:
 * buffered, written in 32 KiB batches or every 250 ms, so a log line costs a string append
 * rather than a syscall per request. Authorization and Cookie are redacted wherever they appear.
 */
export function createLogger(opts: LoggerOptions): LogOutput {
  const sink = opts.destination ? undefined : new LineSink(opts.file ?? 1);
  const destination = opts.destination ?? (sink as DestinationStream);
  // Lines still buffered when the process exits (a crash included) are written on the way out.
  const onExit = () => sink?.flush();
  if (sink) process.once('exit', onExit);
  const logger = pino(
    {
      level: opts.level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          '*.authorization',
          '*.cookie',
          'authorization',
          'cookie',
          '*.headers.authorization',
          '*.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
  return {
    logger,
    destination,
    flush() {
      try {
        if (sink) sink.flush();
        else logger.flush();
      } catch {
        /* destination without flush */
      }
    },
    close() {
      process.removeListener('exit', onExit);
      sink?.end();
    },
  };
}
