import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Logger options from the `log` config section. */
export interface LoggerOptions {
  readonly level: string;
  readonly file?: string | undefined;
  /** A stream to write to instead (tests capture lines this way). */
  readonly destination?: DestinationStream | undefined;
}

/**
 * Builds the pino logger once. Writes are asynchronous and buffered (sonic-boom) so the access
 * log costs little per request; `flushLogger` flushes on shutdown. Authorization and Cookie are
 * redacted wherever they appear.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const dest =
    opts.destination ??
    pino.destination({ dest: opts.file ?? 1, sync: false, minLength: opts.file ? 4096 : 0, mkdir: true });
  return pino(
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
    dest,
  );
}

/** Flushes a logger's buffered destination, ignoring destinations that cannot flush. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    /* destination without flush */
  }
}
