import type { AuditConfig } from './schema.js';
import type { AuditEvent } from './event.js';
import { buildSinks, stdoutSink, streamSink, type AuditSink } from './sinks.js';
import type { Outbox, SinkStats } from './outbox.js';
import type { FileTransport } from './file-sink.js';
import { AuditChain } from './chain.js';
import { loadSigningKey } from './key.js';
import { isAbsolute, resolve } from 'node:path';

export { buildRequestEvent, requestEventLine } from './build.js';

/** The `audit` section as the log reads it (`integrity` and `sinks` absent: none). */
export type AuditLogConfig = Pick<AuditConfig, 'stdout' | 'level'> &
  Partial<Pick<AuditConfig, 'file' | 'integrity' | 'sinks'>>;

/** Options of an {@link AuditLog} besides its config section. */
export interface AuditLogOptions {
  /** Also push every event into this array (tests, `startGatehouse`). */
  readonly capture?: AuditEvent[] | undefined;
  /** Directory relative paths (`audit.file`, sink paths, key file) resolve against. Default: the working directory. */
  readonly baseDir?: string | undefined;
  /** Replaces fd 1 for `audit.stdout` (tests). */
  readonly stdout?: { write(chunk: string): unknown } | undefined;
  /** Called on sink write errors (disk full, collector down…). Default: one line on stderr per sink and error kind. */
  readonly onError?: ((e: Error) => void) | undefined;
}

/**
 * The audit trail: one JSON event per request decision, written to the sinks of the `audit`
 * config section (stdout, files, syslog, HTTP collectors), linked into a hash chain with signed
 * checkpoints (`audit.integrity`, see {@link AuditChain}). Built once at start and kept across
 * reloads. `emit` serialises once, hashes once and hands the line to buffered asynchronous
 * sinks: no synchronous I/O per event. At level `info` the decision trace is dropped.
 */
export class AuditLog {
  /** True at `audit.level: debug`: authorisers record a trace for every request. */
  readonly debug: boolean;
  readonly #sinks: AuditSink[] = [];
  readonly #outboxes: Outbox[];
  readonly #files: FileTransport[];
  readonly #capture: AuditEvent[] | undefined;
  readonly #chain: AuditChain | undefined;
  #emitted = 0;
  #errors = 0;
  #closed = false;
  #unavailable = false;
  readonly #onUsr1 = () => this.reopen();

  constructor(cfg: AuditLogConfig, opts: AuditLogOptions = {}) {
    this.debug = cfg.level === 'debug';
    this.#capture = opts.capture;
    const seen = new Set<string>();
    const report =
      opts.onError ??
      ((e: Error & { code?: string }) => {
        const key = e.code ?? e.message;
        if (seen.has(key)) return;
        seen.add(key);
        process.stderr.write(`gatehouse: audit sink error: ${e.message}\n`);
      });
    const counted = (e: Error) => {
      this.#errors++;
      report(e);
    };
    const baseDir = opts.baseDir ?? process.cwd();
    // The key first: a bad key file fails the start before any file is opened.
    const integrity = cfg.integrity;
    const writes = cfg.stdout || cfg.file !== undefined || (cfg.sinks?.length ?? 0) > 0;
    const keyFile = integrity?.key_file;
    const key =
      writes && integrity?.enabled === true
        ? loadSigningKey(keyFile === undefined || isAbsolute(keyFile) ? keyFile : resolve(baseDir, keyFile))
        : undefined;
    if (cfg.stdout) this.#sinks.push(opts.stdout ? streamSink(opts.stdout) : stdoutSink(counted));
    const built = buildSinks(cfg as AuditConfig, {
      baseDir,
      onError: (sink, e) =>
        counted(
          Object.assign(new Error(`[${sink}] ${e.message}`), {
            code: `${sink}:${(e as { code?: string }).code ?? ''}`,
          }),
        ),
      onState: () => {
        this.#unavailable = this.#outboxes.some((o) => o.onFailure === 'block' && !o.up);
      },
    });
    this.#outboxes = built.outboxes;
    this.#files = built.files;
    this.#sinks.push(...built.outboxes);
    if (this.#files.length > 0) process.on('SIGUSR1', this.#onUsr1);
    if (key !== undefined && integrity !== undefined && this.#sinks.length > 0) {
      this.#chain = new AuditChain({
        key,
        every: integrity.checkpoint_every,
        intervalMs: integrity.checkpoint_interval,
        out: (line) => this.#out(line),
      });
    }
  }

  /** Records one event. Cheap: one JSON.stringify, one hash and a buffered write per sink. */
  emit(event: AuditEvent): void {
    const ev = !this.debug && event.trace !== undefined ? { ...event, trace: undefined } : event;
    this.#emitted++;
    this.#capture?.push(ev);
    if (this.#writing) this.#write(JSON.stringify(ev));
  }

  /**
   * Records one request event given as its JSON line (built without an intermediate object);
   * `event` builds the object only for the capture array.
   */
  emitLine(line: string, event: () => AuditEvent): void {
    this.#emitted++;
    this.#capture?.push(event());
    if (this.#writing) this.#write(line);
  }

  get #writing(): boolean {
    return this.#sinks.length > 0 && !this.#closed;
  }

  #write(line: string): void {
    if (this.#chain !== undefined) this.#chain.write(line);
    else this.#out(line);
  }

  #out(line: string): void {
    const out = `${line}\n`;
    for (const s of this.#sinks) s.write(out);
  }

  /** False when events go nowhere (no sink, no capture): callers may skip building them. */
  get active(): boolean {
    return (this.#sinks.length > 0 && !this.#closed) || this.#capture !== undefined;
  }

  /**
   * True while a sink with `on_failure: block` cannot write (from a failed write until a write
   * succeeds): the gateway then refuses requests with 503 GH_AUDIT_UNAVAILABLE.
   */
  get unavailable(): boolean {
    return this.#unavailable;
  }

  /** Counters of every delivery sink (file, syslog, http), for the metrics. */
  get sinkStats(): readonly SinkStats[] {
    return this.#outboxes;
  }

  /** Id of this process's hash chain (undefined when integrity is off or nothing is written). */
  get chainId(): string | undefined {
    return this.#chain?.id;
  }

  /** Reopens every audit file at its configured path (SIGUSR1, after log rotation). */
  reopen(): void {
    for (const f of this.#files) f.reopen();
  }

  /** Events emitted since start. */
  get emitted(): number {
    return this.#emitted;
  }

  /** Sink write errors since start. */
  get errors(): number {
    return this.#errors;
  }

  /** Ends the chain (signed), flushes every sink and closes them. Later events reach only the capture array. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#chain?.end();
    this.#closed = true;
    process.removeListener('SIGUSR1', this.#onUsr1);
    await Promise.all(this.#sinks.map((s) => s.close()));
  }
}
