import type { Logger } from 'pino';
import type { RequestContext } from '../pipeline/context.js';
import type { GatehouseError } from '../errors/index.js';
import type { AuditEvent } from '../audit/event.js';
import type { GatehouseMetrics } from '../metrics/gateway.js';
import type { AccessLog } from '../log/access.js';

/** Where audit events go (the audit log's sinks). */
export interface AuditSink {
  emit(event: AuditEvent): void;
  /** False when emitted events go nowhere; the event is then not built. */
  readonly active?: boolean;
}

/** Builds the audit event of a finished request. */
export type AuditEventBuilder = (ctx: RequestContext, status: number, err?: GatehouseError) => AuditEvent;

/** The decision alone, for metrics when no event is built. */
export type DecisionOf = (
  ctx: RequestContext,
  status: number,
  err?: GatehouseError,
) => AuditEvent['decision'];

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
  constructor(
    private readonly logger: Logger,
    private readonly accessLog: AccessLog | undefined,
    private readonly audit: AuditSink,
    private readonly build: AuditEventBuilder,
    private readonly decide: DecisionOf,
    /** Prometheus metrics, updated once per finished request (shared with `/.gatehouse/metrics`). */
    readonly metrics: GatehouseMetrics,
  ) {}

  record(ctx: RequestContext, status: number, bytes: number, err?: GatehouseError): void {
    if (ctx.extra.recorded === true) return;
    ctx.extra.recorded = true;
    const as = ctx.extra.recordAs as RecordAs | undefined;
    if (as !== undefined) return this.record(as.ctx, status, bytes, err ?? as.err);
    if (this.audit.active === false) {
      const reasons = err === undefined ? ctx.reasons : [...new Set([...ctx.reasons, ...err.reasons])];
      this.metrics.observe(ctx, status, this.decide(ctx, status, err), reasons, err?.code);
    } else {
      let event: AuditEvent | undefined;
      try {
        event = this.build(ctx, status, err);
        this.audit.emit(event);
      } catch (e) {
        this.logger.error({ err: e, req_id: ctx.id }, 'audit emit failed');
      }
      this.metrics.observe(ctx, status, event?.decision ?? 'error', event?.reasons ?? ctx.reasons, err?.code);
    }
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
