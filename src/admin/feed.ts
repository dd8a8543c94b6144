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

/**
 * The most recent decisions in a fixed-size ring (`admin.retention.decisions`), newest last.
 * Memory is bounded by the ring size: the oldest entry is overwritten by the newest.
 */
export class DecisionRing {
  readonly #items: (FeedEntry | undefined)[];
  #next = 0;
  #size = 0;
  readonly #listeners: FeedListener[] = [];

  constructor(readonly capacity: number) {
    this.#items = new Array<FeedEntry | undefined>(capacity).fill(undefined);
  }

  /** Calls `l` for every entry stored from now on. */
  listen(l: FeedListener): void {
    this.#listeners.push(l);
  }

  push(e: FeedEntry): void {
    this.#items[this.#next] = e;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    for (const l of this.#listeners) l(e);
  }

  get size(): number {
    return this.#size;
  }

  /** The newest entry with this request id (a scan: explain is rare, the hot path pays no index). */
  get(id: string): FeedEntry | undefined {
    return this.recent(1, (e) => e.id === id)[0];
  }

  /** Newest first, stopping after `limit` entries that pass `keep`. */
  recent(limit: number, keep: (e: FeedEntry) => boolean = () => true): FeedEntry[] {
    const out: FeedEntry[] = [];
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const e = this.#items[(this.#next - i + this.capacity) % this.capacity] as FeedEntry;
      if (keep(e)) out.push(e);
    }
    return out;
  }
}
