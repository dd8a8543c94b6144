import type { RequestContext } from '../pipeline/context.js';
import type { LimitResult, Limiter } from '../pipeline/stages.js';
import { GatehouseError } from '../errors/index.js';
import type { TakeResult } from './algorithms.js';
import type { CompiledLimit } from './compile.js';
import type { ThrottledLog } from './redis.js';
import type { LimitStore } from './store.js';

/** Counters for metrics and the dashboard, shared by every route limiter of one runtime state. */
export interface LimitStats {
  allowed: number;
  rejected: number;
  storeErrors: number;
  failedOpen: number;
  failedClosed: number;
  /** Rejections per limit name. */
  readonly rejectedBy: Map<string, number>;
}

export function newLimitStats(): LimitStats {
  return { allowed: 0, rejected: 0, storeErrors: 0, failedOpen: 0, failedClosed: 0, rejectedBy: new Map() };
}

const ALLOWED: LimitResult = Object.freeze({ allowed: true });

const secs = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

/**
 * The limits of one route, checked in order; all must pass. A request denied by a later limit
 * still counts against the earlier ones (as in Envoy and Kong). Denial answers
 * `GH_RATE_LIMITED` / `GH_QUOTA_EXCEEDED` (returned as `LimitResult.error`) with `Retry-After` and the RateLimit headers of
 * draft-ietf-httpapi-ratelimit-headers (§3 RateLimit-Policy, §4 RateLimit). With the memory
 * store, and for leased tokens of the Redis store, the check is synchronous.
 */
export class RouteLimiter implements Limiter {
  readonly id = 'limits';
  readonly #limits: readonly CompiledLimit[];
  readonly #store: LimitStore;
  readonly #stats: LimitStats;
  readonly #log: ThrottledLog;
  readonly #anyHeaders: boolean;
  readonly #policyHeader: string;

  constructor(limits: readonly CompiledLimit[], store: LimitStore, stats: LimitStats, log: ThrottledLog) {
    this.#limits = limits;
    this.#store = store;
    this.#stats = stats;
    this.#log = log;
    const withHeaders = limits.filter((l) => l.headers);
    this.#anyHeaders = withHeaders.length > 0;
    this.#policyHeader = withHeaders.map((l) => l.policyItem).join(', ');
  }

  check(ctx: RequestContext): LimitResult | Promise<LimitResult> {
    const now = Date.now();
    let header: string | undefined;
    const limits = this.#limits;
    for (let i = 0; i < limits.length; i++) {
      const lim = limits[i] as CompiledLimit;
      const r = this.#store.take(this.#key(ctx, lim), lim, now);
      if (r instanceof Promise) return this.#continue(ctx, now, i, r, header);
      if (!r.allowed) return this.#deny(ctx, lim, r);
      if (lim.headers) header = this.#append(header, lim, r);
    }
    return this.#allow(ctx, header);
  }

  /**
   * Finishes a check once a store answers with a Promise (a Redis round trip); leases and the
   * memory store answer synchronously, so most requests never get here.
   */
  async #continue(
    ctx: RequestContext,
    now: number,
    from: number,
    pending: Promise<TakeResult>,
    header: string | undefined,
  ): Promise<LimitResult> {
    const limits = this.#limits;
    for (let i = from; i < limits.length; i++) {
      const lim = limits[i] as CompiledLimit;
      let r: TakeResult;
      try {
        r = await (i === from ? pending : this.#store.take(this.#key(ctx, lim), lim, now));
      } catch (err) {
        const denied = this.#storeError(ctx, lim, err);
        if (denied) return denied;
        continue;
      }
      if (!r.allowed) return this.#deny(ctx, lim, r);
      if (lim.headers) header = this.#append(header, lim, r);
    }
    return this.#allow(ctx, header);
  }

  #key(ctx: RequestContext, lim: CompiledLimit): string {
    const v = lim.keyFn(ctx);
    return v === undefined ? `${lim.prefix}ip|${ctx.clientIp}` : lim.prefix + v;
  }

  #append(header: string | undefined, lim: CompiledLimit, r: TakeResult): string {
    const item = `${lim.item};r=${r.remaining};t=${secs(r.resetMs)}`;
    return header === undefined ? item : `${header}, ${item}`;
  }

  #allow(ctx: RequestContext, header: string | undefined): LimitResult {
    this.#stats.allowed++;
    if (this.#anyHeaders && header !== undefined) {
      ctx.responseHeaders.set('RateLimit-Policy', this.#policyHeader);
      ctx.responseHeaders.set('RateLimit', header);
    }
    return ALLOWED;
  }

  #deny(ctx: RequestContext, lim: CompiledLimit, r: TakeResult): LimitResult {
    this.#stats.rejected++;
    this.#stats.rejectedBy.set(lim.name, (this.#stats.rejectedBy.get(lim.name) ?? 0) + 1);
    ctx.reasons.push(lim.reason);
    const retry = String(Math.max(1, secs(r.retryAfterMs)));
    const error = new GatehouseError(
      lim.kind === 'rate' ? 'GH_RATE_LIMITED' : 'GH_QUOTA_EXCEEDED',
      `limit "${lim.name}" exceeded; retry in ${r.retryAfterMs} ms`,
      {
        headers: {
          'Retry-After': retry,
          'RateLimit-Policy': lim.policyItem,
          RateLimit: `${lim.item};r=0;t=${retry}`,
        },
        reasons: [lim.reason],
      },
    );
    return { allowed: false, error };
  }

  /** Applies `on_store_error`: undefined to carry on (fail_open), a denial otherwise. */
  #storeError(ctx: RequestContext, lim: CompiledLimit, err: unknown): LimitResult | undefined {
    this.#stats.storeErrors++;
    this.#log.note(err, { limit: lim.name });
    if (lim.failOpen) {
      this.#stats.failedOpen++;
      ctx.reasons.push(`limit.store_error:${lim.name}`);
      return undefined;
    }
    this.#stats.failedClosed++;
    ctx.reasons.push(`limit.store_error:${lim.name}`);
    const error = new GatehouseError(
      'GH_LIMIT_STORE_UNAVAILABLE',
      `limit "${lim.name}": ${err instanceof Error ? err.message : String(err)}`,
      {
        reasons: [`limit.store_error:${lim.name}`],
        headers: { 'Retry-After': '1' },
      },
    );
    return { allowed: false, error };
  }
}
