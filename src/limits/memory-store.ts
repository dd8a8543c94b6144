import { takeUpTo, type BucketState, type LimitAlgorithm, type LeaseResult } from './algorithms.js';
import type { LimitStore } from './store.js';

/**
 * In-process limit store: one Map of small state records. Bounded to `maxKeys`: expired
 * buckets are swept periodically and when the bound is hit; if all are live, the oldest
 * tenth is dropped (those clients get a fresh bucket — the price of a bounded store).
 */
export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;
  readonly #buckets = new Map<string, BucketState>();
  readonly #maxKeys: number;
  readonly #timer: NodeJS.Timeout | undefined;
  /** Live buckets dropped because the store was full. */
  evicted = 0;

  constructor(opts: { maxKeys?: number; sweepIntervalMs?: number } = {}) {
    this.#maxKeys = opts.maxKeys ?? 100_000;
    const every = opts.sweepIntervalMs ?? 30_000;
    if (every > 0) {
      this.#timer = setInterval(() => this.sweep(Date.now()), every);
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, limit: LimitAlgorithm, now: number): LeaseResult {
    return this.takeUpTo(key, limit, now, 1);
  }

  /** Takes up to `n` tokens at once (the arithmetic the Redis store's leases use). */
  takeUpTo(key: string, limit: LimitAlgorithm, now: number, n: number): LeaseResult {
    const s = this.#buckets.get(key);
    if (s === undefined || s.exp <= now) {
      if (s === undefined && this.#buckets.size >= this.#maxKeys) this.#makeRoom(now);
      const fresh: BucketState = { a: limit.algo === 'gcra' ? 0 : -1, b: 0, c: 0, exp: 0 };
      const r = takeUpTo(fresh, limit, now, n);
      if (r.allowed) this.#buckets.set(key, fresh);
      else if (s !== undefined) this.#buckets.delete(key);
      return r;
    }
    return takeUpTo(s, limit, now, n);
  }

  /** Removes expired buckets. */
  sweep(now: number): void {
    for (const [k, s] of this.#buckets) if (s.exp <= now) this.#buckets.delete(k);
  }

  #makeRoom(now: number): void {
    this.sweep(now);
    if (this.#buckets.size < this.#maxKeys) return;
    let n = Math.max(1, Math.floor(this.#maxKeys / 10));
    for (const k of this.#buckets.keys()) {
      this.#buckets.delete(k);
      this.evicted++;
      if (--n === 0) break;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#buckets.clear();
  }
}
