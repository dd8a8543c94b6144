import { isAbsolute, resolve } from 'node:path';
import type { GatehouseConfig } from '../config/schema.js';
import type { AuditEvent } from './event.js';
import { fileSink, stdoutSink, streamSink, type AuditSink } from './sinks.js';

export { buildRequestEvent, requestEventLine } from './build.js';

/** Options of an {@link AuditLog} besides its config section. */
export interface AuditLogOptions {
  /** Also push every event into this array (tests, `startGatehouse`). */
  readonly capture?: AuditEvent[] | undefined;
  /** Directory relative `audit.file` paths resolve against. Default: the working directory. */
  readonly baseDir?: string | undefined;
  /** Replaces fd 1 for `audit.stdout` (tests). */
  readonly stdout?: { write(chunk: string): unknown } | undefined;
  /** Called on sink write errors (disk full…). Default: one line on stderr per error kind. */
  readonly onError?: ((e: Error) => void) | undefined;
}

/**
 * The audit trail: one JSON event per request decision, written to the sinks of the `audit`
 * config section (stdout and/or an append-only JSON-lines file). Built once at start and kept
 * across reloads. `emit` serialises once and hands the line to buffered asynchronous sinks: no
 * synchronous I/O per event. At level `info` the decision trace is dropped; `debug` keeps it.
 */
export class AuditLog {
  /** True at `audit.level: debug`: authorisers record a trace for every request. */
  readonly debug: boolean;
  readonly #sinks: AuditSink[] = [];
  readonly #capture: AuditEvent[] | undefined;
  #emitted = 0;
  #errors = 0;
  #closed = false;

  constructor(cfg: GatehouseConfig['audit'], opts: AuditLogOptions = {}) {
    this.debug = cfg.level === 'debug';
    this.#capture = opts.capture;
    const seen = new Set<string>();
    const onError =
      opts.onError ??
      ((e: Error & { code?: string }) => {
        const key = e.code ?? e.message;
        if (seen.has(key)) return;
        seen.add(key);
        process.stderr.write(`gatehouse: audit sink error: ${e.message}\n`);
      });
    const counted = (e: Error) => {
      this.#errors++;
      onError(e);
    };
    if (cfg.stdout) this.#sinks.push(opts.stdout ? streamSink(opts.stdout) : stdoutSink(counted));
    if (cfg.file !== undefined) {
      const path = isAbsolute(cfg.file) ? cfg.file : resolve(opts.baseDir ?? process.cwd(), cfg.file);
      this.#sinks.push(fileSink(path, counted));
    }
  }

  /** Records one event. Cheap: one JSON.stringify and a buffered write per sink. */
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
    const out = `${line}\n`;
    for (const s of this.#sinks) s.write(out);
  }

  /** False when events go nowhere (no sink, no capture): callers may skip building them. */
  get active(): boolean {
    return (this.#sinks.length > 0 && !this.#closed) || this.#capture !== undefined;
  }

  /** Events emitted since start. */
  get emitted(): number {
    return this.#emitted;
  }

  /** Sink write errors since start. */
  get errors(): number {
    return this.#errors;
  }

  /** Flushes every sink and closes the file. Later events reach only the capture array. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#sinks.map((s) => s.close()));
  }
}
