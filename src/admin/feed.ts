import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { GatehouseError } from '../errors/index.js';
import type { AuditEvent } from '../audit/event.js';

/** One recorded request, as kept in the ring: raw fields, turned into JSON only when read. */
export interface FeedEntry {
  readonly id: string;
  /** Epoch ms at the record. */
  readonly t: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly principal: Principal | undefined;
  readonly decision: AuditEvent['decision'];
  /** The request's reason codes (the audit event's `reasons`). */
  readonly reasons: readonly string[];
  readonly rule: string | undefined;
  readonly error: string | undefined;
  readonly status: number;
  readonly upstreamStatus: number | undefined;
  readonly clientIp: string;
  /** Whole request in ms. */
  readonly totalMs: number;
  /** Upstream time in ms; undefined when not forwarded. */
  readonly upstreamMs: number | undefined;
  /** Response cache outcome on cached routes. */
  readonly cache: 'hit' | 'miss' | undefined;
}

/** Receives every entry after it is stored (analytics, live-stream fan-out). */
export type FeedListener = (e: FeedEntry) => void;

/**
 * Builds the entry of a finished request from what the recorder already computed for the audit
 * event (decision, merged reasons); nothing is recomputed or serialised here.
 */
export function entryOf(
  ctx: RequestContext,
  status: number,
  decision: AuditEvent['decision'],
  reasons: readonly string[],
  err: GatehouseError | undefined,
): FeedEntry {
  const now = performance.now();
  const d = ctx.upstreamDispatch;
  let cache: FeedEntry['cache'];
  if (ctx.route !== undefined && ctx.route.mutators.length > 0) {
    const x = ctx.responseHeaders.get('X-Cache') ?? ctx.res.getHeader('X-Cache');
    cache = x === 'HIT' ? 'hit' : x === 'MISS' ? 'miss' : undefined;
  }
  return {
    id: ctx.id,
    t: Date.now(),
    method: ctx.method,
    host: ctx.host,
    path: ctx.path,
    route: ctx.route?.name,
    principal: ctx.principal,
    decision,
    reasons,
    rule: ctx.rule,
    error: err?.code,
    status,
    upstreamStatus: ctx.upstreamStatus,
    clientIp: ctx.clientIp,
    totalMs: now - ctx.start,
    upstreamMs: d === undefined ? undefined : (ctx.upstreamEnd ?? now) - d,
    cache,
  };
}
