import type { LeaseResult, LimitAlgorithm, TakeResult } from './algorithms.js';
import type { LimitStore } from './store.js';

/** Where leases come from: the shared store's "take up to n tokens" (`RedisLimitStore`). */
export interface LeaseSource {
  takeUpTo(key: string, limit: LimitAlgorithm, now: number, n: number): Promise<LeaseResult>;
}

/** How big a lease may be and how long its tokens stay usable (`limits.lease`). */
export interface LeasePolicy {
  /** Most tokens one instance takes at once; 1 = one round trip per request (exact). */
  readonly max: number;
  /** At most this share of a limit's budget (bucket size or quota) per lease. */
  readonly share: number;
  /** Unused leased tokens are dropped after this many ms (and at a quota window's end). */
  readonly ttlMs: number;
  /** Most keys holding a lease at once; beyond it requests go to the store one by one. */
  readonly maxKeys: number;
}

interface Lease {
  /** Tokens left to hand out locally. */
  tokens: number;
  /** Epoch ms after which `tokens` are void. */
  expires: number;
  /** Shared budget left when the lease was taken (for RateLimit headers). */
  remoteRemaining: number;
  /** Epoch ms the shared budget is fully restored / the window rolls over. */
  resetAt: number;
  /** While denied: epoch ms before which the store would deny again (no round trip until then). */
  deniedUntil: number;
  /** The lease being fetched; concurrent requests for the key wait on it (single flight). */
  pending: Promise<void> | undefined;
}

/** Tokens per lease for `lim`: a share of its budget, at least 1, at most `policy.max`. */
export function leaseSize(lim: LimitAlgorithm, policy: LeasePolicy): number {
  return Math.max(1, Math.min(policy.max, Math.floor(lim.limit * policy.share)));
}

/**
 * A shared (Redis) limit store seen through local leases: an instance takes a batch of tokens
 * from the shared bucket in one round trip and hands them out in process, so most requests
 * cost a map lookup instead of a round trip. Leased tokens are counted in the shared bucket
 * when leased, so instances never admit more than the bucket granted. What changes is *when*
 * a token is used, bounded by the lease TTL:
 *
 * - quotas (`fixed`, `sliding`): a lease never outlives its window, so no window admits more
 *   than its quota; unused tokens of a lease are lost (under-admission ≤ instances × lease);
 * - rates (`gcra`): tokens leased at t may be used until t + ttl, so a window may admit up to
 *   instances × lease more than an exact bucket would (over-admission ≤ instances × lease),
 *   and as many fewer when leases expire unused.
 *
 * A denial is remembered until the store's `Retry-After` (no token can be leased before it),
 * so a client over its limit costs no round trip either. Store errors reach the caller
 * (`on_store_error` applies), never an allow.
 */
export class LeasedLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  readonly #source: LeaseSource & LimitStore;
  readonly #policy: LeasePolicy;
  readonly #leases = new Map<string, Lease>();
  readonly #timer: NodeJS.Timeout;

  constructor(source: LeaseSource & LimitStore, policy: LeasePolicy) {
    this.#source = source;
    this.#policy = policy;
    this.#timer = setInterval(() => this.sweep(Date.now()), Math.max(1000, policy.ttlMs * 4));
    this.#timer.unref();
  }

  /** Keys currently holding a lease or a remembered denial. */
  get size(): number {
    return this.#leases.size;
  }

  take(key: string, lim: LimitAlgorithm, now: number): TakeResult | Promise<TakeResult> {
    const l = this.#leases.get(key);
    if (l !== undefined) {
      if (l.tokens > 0 && now < l.expires) return use(l, now);
      if (now < l.deniedUntil) return denied(l, now);
      if (l.pending !== undefined) return l.pending.then(() => this.take(key, lim, Date.now()));
    }
    const n = leaseSize(lim, this.#policy);
    if (n === 1 || (l === undefined && this.#leases.size >= this.#policy.maxKeys))
      return this.#source.take(key, lim, now);
    return this.#fetch(key, lim, now, n, l);
  }

  #fetch(
    key: string,
    lim: LimitAlgorithm,
    now: number,
    n: number,
    held: Lease | undefined,
  ): Promise<TakeResult> {
    const l: Lease = held ?? {
      tokens: 0,
      expires: 0,
      remoteRemaining: 0,
      resetAt: 0,
      deniedUntil: 0,
      pending: undefined,
    };
    if (held === undefined) this.#leases.set(key, l);
    let first: TakeResult | undefined;
    const pending = this.#source.takeUpTo(key, lim, now, n).then(
      (r) => {
        l.pending = undefined;
        if (r.granted === 0) {
          l.tokens = 0;
          l.deniedUntil = now + r.retryAfterMs;
          l.resetAt = now + r.resetMs;
          first = r;
          return;
        }
        // A quota's lease ends with its window (resetMs); a rate's after the TTL.
        const ttl = lim.algo === 'gcra' ? this.#policy.ttlMs : Math.min(this.#policy.ttlMs, r.resetMs);
        l.tokens = r.granted - 1;
        l.expires = now + ttl;
        l.remoteRemaining = r.remaining;
        l.resetAt = now + r.resetMs;
        l.deniedUntil = 0;
        first = { allowed: true, remaining: r.remaining + l.tokens, resetMs: r.resetMs, retryAfterMs: 0 };
      },
      (err: unknown) => {
        l.pending = undefined;
        if (l.tokens === 0) this.#leases.delete(key);
        throw err;
      },
    );
    l.pending = pending;
    return pending.then(() => first as TakeResult);
  }

  /** Drops leases whose tokens expired and whose denial is over. */
  sweep(now: number): void {
    for (const [k, l] of this.#leases)
      if (l.pending === undefined && (l.tokens === 0 || now >= l.expires) && now >= l.deniedUntil)
        this.#leases.delete(k);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#leases.clear();
  }
}

function use(l: Lease, now: number): TakeResult {
  l.tokens--;
  return {
    allowed: true,
    remaining: l.remoteRemaining + l.tokens,
    resetMs: Math.max(0, l.resetAt - now),
    retryAfterMs: 0,
  };
}

function denied(l: Lease, now: number): TakeResult {
  return {
    allowed: false,
    remaining: 0,
    resetMs: Math.max(0, l.resetAt - now),
    retryAfterMs: Math.max(1, l.deniedUntil - now),
  };
}
