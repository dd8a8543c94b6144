import { pino, type Logger, type DestinationStream } from 'pino';

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
  /** Flushes buffered lines; `sync` at shutdown. */
  flush(sync?: boolean): void;
  /** Stops the background flush timer. */
  close(): void;
}

const FLUSH_EVERY_MS = 250;

/** A logger that writes nothing (validate, explain, tests of compile-time behaviour). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Builds the pino logger once. Lines are buffered (sonic-boom, 4 KiB) and flushed at least every
 * 250 ms, so a log line costs a memory copy rather than a syscall per request.
 * Authorization and Cookie are redacted wherever they appear.
 */
export function createLogger(opts: LoggerOptions): LogOutput {
  const boom = opts.destination
    ? undefined
    : pino.destination({ dest: opts.file ?? 1, sync: false, minLength: 4096, mkdir: true });
  const destination = opts.destination ?? (boom as DestinationStream);
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
  const timer = boom
    ? setInterval(() => {
        try {
          boom.flush();
        } catch {
          /* not open yet, or already writing */
        }
      }, FLUSH_EVERY_MS).unref()
    : undefined;
  return {
    logger,
    destination,
    flush(sync = false) {
      try {
        if (sync && boom) boom.flushSync();
        else logger.flush();
      } catch {
        /* destination without flush, or not ready */
      }
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
