import type { Logger } from 'pino';
import type { RequestContext } from '../pipeline/context.js';
import type { GatehouseError } from '../errors/index.js';
import type { AuditEvent } from '../audit/event.js';
import { mergedReasons } from '../audit/build.js';
import type { GatehouseMetrics } from '../metrics/gateway.js';
import type { AccessLog } from '../log/access.js';

/** Where audit events go (the audit log's sinks). */
export interface AuditSink {
  emit(event: AuditEvent): void;
  /**
   * Writes the prebuilt JSON line of a request event; `event` builds the same event as an
   * object for whatever keeps objects (a capture array).
   */
  emitLine?(line: string, event: () => AuditEvent): void;
  /** False when emitted events go nowhere; the event is then not built. */
  readonly active?: boolean;
}

/** Builds the audit event of a finished request. */
export type AuditEventBuilder = (ctx: RequestContext, status: number, err?: GatehouseError) => AuditEvent;

/** The audit line of a finished request, or undefined when only the generic event path can write it. */
export type AuditLineBuilder = (
  ctx: RequestContext,
  status: number,
  err: GatehouseError | undefined,
  decision: AuditEvent['decision'],
  reasons: readonly string[],
) => string | undefined;

/** The decision alone, for metrics when no event is built. */
export type DecisionOf = (
  ctx: RequestContext,
  status: number,
  err?: GatehouseError,
) => AuditEvent['decision'];

/** Receives every finished request's decision (the admin console's feed). */
export type DecisionFeed = (
  ctx: RequestContext,
  status: number,
  decision: AuditEvent['decision'],
  reasons: readonly string[],
  err: GatehouseError | undefined,
) => void;

const US_PER_MS = 1000;

/**
 * Set as `ctx.extra.recordAs` by an endpoint that decided on behalf of another request
 * (forward-auth): that request, and `err` when it was denied, is what gets recorded.
 */
export interface RecordAs {
  readonly ctx: RequestContext;
  readonly err?: GatehouseError | undefined;
}

/**
 * Records every finished request exactly once: an audit event and (when enabled) one
 * structured access-log line with route, status, bytes, total and upstream durations, client
 * address and request id. Never logs credentials.
 */
export class Recorder {
  /**
   * The admin console's decision feed (src/admin): called once per finished request with what
   * the audit event was built from. Undefined (one check per request) without `admin`.
   */
  feed: DecisionFeed | undefined = undefined;

  constructor(
    private readonly logger: Logger,
    private readonly accessLog: AccessLog | undefined,
    private readonly audit: AuditSink,
    private readonly build: AuditEventBuilder,
    private readonly decide: DecisionOf,
    /** Prometheus metrics, updated once per finished request (shared with `/.gatehouse/metrics`). */
    readonly metrics: GatehouseMetrics,
    private readonly line?: AuditLineBuilder,
  ) {}

  record(ctx: RequestContext, status: number, bytes: number, err?: GatehouseError): void {
    if (ctx.extra.recorded === true) return;
    ctx.extra.recorded = true;
    const as = ctx.extra.recordAs as RecordAs | undefined;
    if (as !== undefined) return this.record(as.ctx, status, bytes, err ?? as.err);
    const decision = this.decide(ctx, status, err);
    const reasons = mergedReasons(ctx, err);
    if (this.audit.active !== false) {
      try {
        const line =
          this.line && this.audit.emitLine ? this.line(ctx, status, err, decision, reasons) : undefined;
        if (line !== undefined) this.audit.emitLine?.(line, () => this.build(ctx, status, err));
        else this.audit.emit(this.build(ctx, status, err));
      } catch (e) {
        this.logger.error({ err: e, req_id: ctx.id }, 'audit emit failed');
      }
    }
    this.metrics.observe(ctx, status, decision, reasons, err?.code);
    if (this.feed !== undefined) this.feed(ctx, status, decision, reasons, err);
    if (!this.accessLog) return;
    const end = performance.now();
    const dispatched = ctx.upstreamDispatch;
    this.accessLog.write({
      reqId: ctx.id,
      route: ctx.route?.name,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      status,
      bytes,
      durationUs: Math.round((end - ctx.start) * US_PER_MS),
      upstreamUs:
        dispatched === undefined
          ? undefined
          : Math.round(((ctx.upstreamEnd ?? end) - dispatched) * US_PER_MS),
      client: ctx.clientIp,
      user: ctx.principal?.subject,
      error: err?.code,
    });
  }
}
