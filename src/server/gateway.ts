import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DestinationStream, Logger } from 'pino';
import type { GatehouseConfig } from '../config/schema.js';
import { compileState, type RuntimeState } from '../config/compile.js';
import { createLogger, type LogOutput } from '../log/logger.js';
import { AccessLog } from '../log/access.js';
import { catalogue, type ErrorCode } from '../errors/index.js';
import { AuditLog, buildRequestEvent, requestEventLine } from '../audit/log.js';
import { decisionOf } from '../audit/build.js';
import { auditMetrics } from '../audit/metrics.js';
import { tracingMetrics } from '../tracing/metrics.js';
import type { AuditEvent } from '../audit/event.js';
import { bindListeners, reloadListenerCertificates, type BoundListener } from './listeners.js';
import { RequestHandler, type HandlerHost } from './handler.js';
import { Recorder } from './recorder.js';
import { newRequestId } from './context.js';
import { handleUpgrade } from './upgrade.js';
import { registerBuiltinEndpoints } from './endpoints.js';
import { GatehouseMetrics } from '../metrics/gateway.js';
import { Admission } from './admission.js';
import { lostDependencies } from './readiness.js';
import { reindexListenerError } from './bind-errors.js';
import { GatehouseError } from '../errors/error.js';
import { AdminConsole } from '../admin/console.js';

/** How to build a gateway. */
export interface GatewayOptions {
  readonly config: GatehouseConfig;
  /** Directory relative file paths in the config resolve against. */
  readonly baseDir: string;
  /** Log destination (tests capture lines); default: `log.file` or stdout. */
  readonly logDestination?: DestinationStream;
  /** Extra in-memory audit capture (tests). */
  readonly auditCapture?: AuditEvent[];
  /** The config file (the admin console's doctor runs on it). */
  readonly configFile?: string;
}

/**
 * A running Gatehouse: listeners, the current runtime state (swapped atomically on reload),
 * the audit log and graceful shutdown.
 */
export class Gateway implements HandlerHost {
  #state: RuntimeState;
  #listeners: BoundListener[] = [];
  #draining = false;
  #ready = false;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly recorder: Recorder;
  readonly handler: RequestHandler;
  /** Per-client connection and in-flight caps, shared by the listeners and the handler. */
  readonly admission: Admission;
  readonly baseDir: string;
  readonly configFile: string | undefined;
  /** The admin console (`admin`), fed by the recorder; undefined without `admin`. */
  readonly admin: AdminConsole | undefined;
  #auditCapture: AuditEvent[] | undefined;
  /** Services that outlive reloads (the session store), shared by every compiled state. */
  readonly #persistent: Map<string, unknown>;
  readonly #log: LogOutput;

  private constructor(
    opts: GatewayOptions,
    log: LogOutput,
    audit: AuditLog,
    state: RuntimeState,
    persistent: Map<string, unknown>,
  ) {
    this.#persistent = persistent;
    this.#log = log;
    this.logger = log.logger;
    this.audit = audit;
    this.#state = state;
    this.baseDir = opts.baseDir;
    this.#auditCapture = opts.auditCapture;
    this.recorder = new Recorder(
      log.logger,
      opts.config.log.access_log ? new AccessLog(log.destination) : undefined,
      audit,
      buildRequestEvent,
      decisionOf,
      new GatehouseMetrics(),
      requestEventLine,
    );
    for (const m of auditMetrics(audit)) this.recorder.metrics.registry.register(m);
    for (const m of tracingMetrics()) this.recorder.metrics.registry.register(m);
    const server = opts.config.server;
    this.admission = new Admission(
      { connections: server.max_connections_per_client, inFlight: server.max_in_flight_per_client },
      (ip) => this.#state.trusted.has(ip),
    );
    this.handler = new RequestHandler(this);
    this.configFile = opts.configFile;
    this.admin = opts.config.admin === undefined ? undefined : new AdminConsole(this, opts.config.admin);
    this.recorder.feed = this.admin?.feed;
  }

  /** Services that outlive reloads (the admin listener's URL, the session store). */
  get persistent(): Map<string, unknown> {
    return this.#persistent;
  }

  /** Compiles the config (throws ConfigError listing every problem) without binding anything. */
  static create(opts: GatewayOptions): Gateway {
    const log = createLogger({
      level: opts.config.log.level,
      file: opts.config.log.file,
      destination: opts.logDestination,
    });
    const logger = log.logger;
    const audit = new AuditLog(opts.config.audit, { capture: opts.auditCapture, baseDir: opts.baseDir });
    const persistent = new Map<string, unknown>();
    const state = Gateway.#compile(opts.config, opts.baseDir, logger, audit, persistent);
    const gw = new Gateway(opts, log, audit, state, persistent);
    registerBuiltinEndpoints(state, () => gw.#ready && !gw.#draining, gw.recorder.metrics);
    return gw;
  }

  static #compile(
    config: GatehouseConfig,
    baseDir: string,
    logger: Logger,
    audit: AuditLog,
    persistent: Map<string, unknown>,
  ): RuntimeState {
    const services = new Map<string, unknown>([
      ['audit', audit],
      ['persistent', persistent],
    ]);
    const state = compileState(config, { logger, baseDir, services });
    for (const w of state.warnings)
      if (w.severity === 'warning') logger.warn({ path: w.path }, `config: ${w.path}: ${w.message}`);
    return state;
  }

  get state(): RuntimeState {
    return this.#state;
  }

  get listeners(): readonly BoundListener[] {
    return this.#listeners;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** True while an audit sink with `on_failure: block` cannot write (requests get 503). */
  get auditUnavailable(): boolean {
    return this.audit.unavailable;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Binds the listeners, then runs start work (JWKS loads…); ready once both are done. Any
   * failure (port in use, unreadable certificate, start work that cannot proceed) closes every
   * listener already bound before rejecting, so the caller can exit non-zero at once. An identity
   * provider that cannot be reached is not a failure: its routes answer 503 while it recovers.
   */
  async start(): Promise<void> {
    const config = this.#state.config;
    const handlers = {
      request: (req: IncomingMessage, res: ServerResponse, secure: boolean, expectContinue: boolean) =>
        this.handler.handle(req, res, secure, expectContinue),
      upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean) =>
        handleUpgrade(this.handler, req, socket, head, secure),
      clientError: (code: ErrorCode, peer: string, detail: string) => this.#clientError(code, peer, detail),
      admission: this.admission,
    };
    try {
      // One listener at a time so that those bound before a failure can be closed again.
      for (const [i, l] of config.server.listeners.entries()) {
        const one = { ...config, server: { ...config.server, listeners: [l] } };
        const [bound] = await bindListeners(one, this.baseDir, handlers).catch((e: unknown) => {
          throw reindexListenerError(e, i);
        });
        if (bound) this.#listeners.push({ ...bound, name: l.name ?? `listener-${i}` });
      }
      await this.#state.start();
      if (this.admin) await this.admin.start();
    } catch (e) {
      await this.#abortListeners();
      throw e;
    }
    this.#ready = true;
    for (const l of this.#listeners)
      this.logger.info({ listener: l.name, url: l.url }, `listening on ${l.url}`);
  }

  /** Closes every bound listener and its connections now (failed start). */
  async #abortListeners(): Promise<void> {
    const listeners = this.#listeners;
    this.#listeners = [];
    await Promise.all(
      listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            l.server.close(() => resolve());
            l.server.closeAllConnections();
            for (const s of l.sockets) s.destroy();
          }),
      ),
    );
  }

  #clientError(code: ErrorCode, peer: string, detail: string): string {
    const id = newRequestId();
    const event: AuditEvent = {
      time: new Date().toISOString(),
      type: 'request',
      request_id: id,
      client_ip: peer,
      decision: 'error',
      reasons: [code],
      error: code,
      status: catalogue[code].status,
      latency_ms: 0,
    };
    this.audit.emit(event);
    this.recorder.metrics.clientError(code);
    this.logger.info(
      { req_id: id, client: peer, error: code, detail },
      'request or connection refused before the pipeline',
    );
    return id;
  }

  /**
   * Compiles a new config and swaps it in atomically; in-flight requests finish on the old
   * state, whose pools then close. Listener changes need a restart and are reported.
   */
  async reload(config: GatehouseConfig): Promise<void> {
    let next: RuntimeState;
    try {
      next = Gateway.#compile(config, this.baseDir, this.logger, this.audit, this.#persistent);
      registerBuiltinEndpoints(next, () => this.#ready && !this.#draining, this.recorder.metrics);
      reloadListenerCertificates(this.#listeners, config, this.baseDir);
      await next.start();
      const lost = lostDependencies(this.#state, next);
      if (lost.length > 0) {
        void next.close();
        throw new GatehouseError(
          'GH_RELOAD_REFUSED',
          `the new configuration cannot load ${lost.map((d) => `${d.kind} of provider "${d.provider}"`).join(', ')}, which the running one has`,
        );
      }
    } catch (e) {
      this.recorder.metrics.configReload('failure');
      this.admin?.reloaded(undefined, e);
      throw e;
    }
    this.recorder.metrics.configReload('success');
    this.admin?.reloaded(config);
    const old = this.#state;
    this.#state = next;
    if (JSON.stringify(old.config.server.listeners) !== JSON.stringify(config.server.listeners)) {
      this.logger.warn('server.listeners changed: restart Gatehouse to apply listener changes');
    }
    this.logger.info({ routes: next.routes.length }, 'configuration reloaded');
    setTimeout(() => void old.close(), 30_000).unref();
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish within `deadlineMs`, then
   * cut what remains; flush logs and the audit file.
   */
  async close(deadlineMs = this.#state.config.server.shutdown_timeout): Promise<void> {
    this.#draining = true;
    const closes = this.#listeners.map(
      (l) =>
        new Promise<void>((resolve) => {
          l.server.close(() => resolve());
          l.server.closeIdleConnections();
        }),
    );
    const sweep = setInterval(() => {
      for (const l of this.#listeners) l.server.closeIdleConnections();
    }, 50);
    const timer = setTimeout(() => {
      for (const l of this.#listeners) {
        l.server.closeAllConnections();
        for (const s of l.sockets) s.destroy();
      }
    }, deadlineMs);
    await Promise.all([...closes, this.admin?.close()]);
    clearTimeout(timer);
    clearInterval(sweep);
    await this.#state.close();
    await this.audit.close();
    this.#log.flush();
    this.#log.close();
  }

  /** Events captured in memory (tests). */
  get capturedAudit(): readonly AuditEvent[] | undefined {
    return this.#auditCapture;
  }
}
