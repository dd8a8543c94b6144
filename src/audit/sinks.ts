import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { LineSink } from '../log/sink.js';
import type { AuditConfig, AuditSinkConfig, SyslogSinkConfig } from './schema.js';
import { Outbox } from './outbox.js';
import { FileTransport } from './file-sink.js';
import { SyslogTransport } from './syslog-sink.js';
import { HttpTransport } from './http-sink.js';

/** Where serialised audit lines go. `write` must not block on I/O. */
export interface AuditSink {
  write(line: string): void;
  /** Flushes buffered lines (and closes files). */
  close(): Promise<void>;
}

/** JSON lines on standard output (fd 1), batched in memory; stdout is flushed, never closed. */
export function stdoutSink(onError: (e: Error) => void): AuditSink {
  const sink = new LineSink(1, { onError });
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

/** What {@link buildSinks} needs besides the config. */
export interface BuildSinksOptions {
  /** Directory relative paths resolve against. */
  readonly baseDir: string;
  readonly onError: (sink: string, e: Error) => void;
  /** A sink went down or came back. */
  readonly onState: () => void;
}

/** The delivery sinks of the `audit` section, with their file transports (for SIGUSR1 reopen). */
export interface BuiltSinks {
  readonly outboxes: Outbox[];
  readonly files: FileTransport[];
}

/** Sink names: the configured one, else the type when it is the only one of its type, else `type-N`. */
function names(all: readonly AuditSinkConfig[]): string[] {
  const count = new Map<string, number>();
  for (const s of all) count.set(s.type, (count.get(s.type) ?? 0) + 1);
  return all.map((s, i) => s.name ?? (count.get(s.type) === 1 ? s.type : `${s.type}-${i}`));
}

/** A sink setting that cannot be used at start (unreadable TLS file); names the config key. */
export class AuditSinkConfigError extends Error {
  readonly code = 'GH_AUDIT_SINK_INVALID';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

function tlsOptions(
  cfg: SyslogSinkConfig,
  host: string,
  baseDir: string,
  at: string,
): ConnectionOptions | undefined {
  const t = cfg.tls;
  if (t === undefined) return undefined;
  if (t === true) return { servername: host };
  // Read once at start; a missing file fails the start naming the key.
  const read = (key: 'ca' | 'cert' | 'key') => {
    const f = t[key];
    if (f === undefined) return undefined;
    try {
      return readFileSync(isAbsolute(f) ? f : resolve(baseDir, f));
    } catch (e) {
      throw new AuditSinkConfigError(
        `${at}.tls.${key}`,
        `cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key'), servername: t.server_name ?? host };
}

/**
 * Builds the file, syslog and HTTP sinks of `audit.sinks` (plus `audit.file`, a file sink with
 * defaults named `file`), each an {@link Outbox} over its transport.
 */
export function buildSinks(cfg: AuditConfig, opts: BuildSinksOptions): BuiltSinks {
  const all: AuditSinkConfig[] = [...(cfg.sinks ?? [])];
  const legacy = cfg.file;
  const sinkNames = names(all);
  const outboxes: Outbox[] = [];
  const files: FileTransport[] = [];
  const path = (p: string) => (isAbsolute(p) ? p : resolve(opts.baseDir, p));
  if (legacy !== undefined) {
    const f = new FileTransport(path(legacy), { reopenCheckMs: 1000 });
    files.push(f);
    outboxes.push(
      new Outbox(f, {
        name: sinkNames.includes('file') ? 'audit.file' : 'file',
        onFailure: 'drop',
        // The defaults of a `file` entry in audit.sinks.
        maxEvents: 10_000,
        maxBytes: 16 * 1024 * 1024,
        retryInitialMs: 250,
        retryMaxMs: 30_000,
        onError: opts.onError,
        onState: opts.onState,
      }),
    );
  }
  all.forEach((s, i) => {
    const common = {
      name: sinkNames[i] as string,
      onFailure: s.on_failure,
      maxEvents: s.buffer.max_events,
      maxBytes: s.buffer.max_bytes,
      retryInitialMs: s.retry.initial,
      retryMaxMs: s.retry.max,
      onError: opts.onError,
      onState: opts.onState,
    };
    if (s.type === 'file') {
      const f = new FileTransport(path(s.path), { reopenCheckMs: s.reopen_check });
      files.push(f);
      outboxes.push(new Outbox(f, common));
    } else if (s.type === 'syslog') {
      const at = s.address.lastIndexOf(':');
      const host = s.address.slice(0, at).replace(/^\[|\]$/g, '');
      const port = Number(s.address.slice(at + 1));
      const t = new SyslogTransport({
        host,
        port,
        tls: tlsOptions(s, host, opts.baseDir, `audit.sinks[${i}]`),
        facility: s.facility,
        appName: s.app_name,
        hostname: s.hostname,
      });
      outboxes.push(new Outbox(t, { ...common, batchEvents: 500 }));
    } else {
      const t = new HttpTransport({
        url: s.url,
        format: s.format,
        headers: s.headers,
        index: s.index,
        timeoutMs: s.timeout,
      });
      outboxes.push(
        new Outbox(t, { ...common, batchEvents: s.batch_events, batchDelayMs: s.batch_interval }),
      );
    }
  });
  return { outboxes, files };
}
