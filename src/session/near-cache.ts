import { Lru } from '../util/lru.js';
import type { SessionData } from './store.js';

/** Settings of a {@link NearCache}. */
export interface NearCacheOptions {
  /** Longest time an entry is served without asking Redis again (ms). */
  readonly maxAgeMs: number;
  /** Most entries kept; the least recently used are evicted first. */
  readonly maxEntries: number;
  /** Clock (epoch ms); tests may pass their own. Default `Date.now`. */
  readonly now?: () => number;
}

interface Entry {
  readonly json: string;
  /** Epoch ms after which the entry is not served. */
  readonly until: number;
  /** `json` parsed once, for {@link NearCache.getShared}; every fill or write makes a new entry. */
  shared?: Readonly<SessionData>;
}

/** Counters of a {@link NearCache}, for tests and metrics. */
export interface NearCacheStats {
  hits: number;
  misses: number;
  /** Redis replies not cached because an invalidation arrived while they were in flight. */
  discarded: number;
  /** Invalidation events (ids evicted or whole-cache clears). */
  invalidations: number;
}

/**
 * A bounded, short-lived local copy of session records in front of a shared store (the Redis
 * session store), kept as JSON text so that every hit is a fresh object (callers mutate what
 * they read). Entries are served for at most `maxAgeMs`, and never past the record's own expiry
 * when it is known.
 *
 * Races with invalidations are closed with a sequence number: a reader calls {@link begin}
 * before sending its read to the store and passes the ticket to {@link fill} with the reply;
 * the reply is cached only if no invalidation ({@link invalidate}, {@link clear}) happened in
 * between. Otherwise a peer's write published while the read was in flight could be overwritten
 * locally by the older value.
 *
 * Whether the cache may be served at all (invalidation channel healthy, store connected) is the
 * owner's decision; this module is pure logic.
 */
export class NearCache {
  readonly #lru: Lru<string, Entry>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #seq = 0;
  readonly stats: NearCacheStats = { hits: 0, misses: 0, discarded: 0, invalidations: 0 };

  constructor(opts: NearCacheOptions) {
    this.#lru = new Lru(Math.max(0, Math.floor(opts.maxEntries)));
    this.#maxAgeMs = Math.max(0, opts.maxAgeMs);
    this.#now = opts.now ?? Date.now;
  }

  /** A fresh copy of the cached record `id`, or undefined when absent or too old. */
  get(id: string): SessionData | undefined {
    const e = this.#entry(id);
    return e === undefined ? undefined : (JSON.parse(e.json) as SessionData);
  }

  /** {@link get}, but one object per cached value, parsed once: callers must not modify it. */
  getShared(id: string): Readonly<SessionData> | undefined {
    const e = this.#entry(id);
    return e === undefined ? undefined : (e.shared ??= JSON.parse(e.json) as SessionData);
  }

  #entry(id: string): Entry | undefined {
    const e = this.#lru.get(id);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    if (this.#now() >= e.until) {
      this.#lru.delete(id);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return e;
  }

  /** A ticket to pass to {@link fill}: take it before the store read is sent. */
  begin(): number {
    return this.#seq;
  }

  /**
   * Caches `json` (the store's reply for `id`, read after {@link begin} returned `ticket`) unless
   * an invalidation happened since. `ttlMs` is the record's remaining lifetime in the store, when
   * known. Resolves to whether the value was cached.
   */
  fill(id: string, json: string, ticket: number, ttlMs?: number): boolean {
    if (ticket !== this.#seq) {
      this.stats.discarded++;
      return false;
    }
    this.#put(id, json, ttlMs);
    return true;
  }

  /**
   * Records a write of this instance that the store acknowledged: caches `json` when no
   * invalidation happened since `ticket` (taken before the write was sent), else evicts `id`.
   * Either way concurrent reads in flight are not cached afterwards.
   */
  write(id: string, json: string, ticket: number, ttlMs: number): void {
    const clean = ticket === this.#seq;
    this.#seq++;
    if (clean) this.#put(id, json, ttlMs);
    else this.#lru.delete(id);
  }

  /** Evicts `ids` (changed elsewhere); reads in flight are not cached afterwards. */
  invalidate(ids: Iterable<string>): void {
    this.#seq++;
    this.stats.invalidations++;
    for (const id of ids) this.#lru.delete(id);
  }

  /** Evicts everything (connection lost, unreadable invalidation); reads in flight are not cached. */
  clear(): void {
    this.#seq++;
    this.stats.invalidations++;
    this.#lru.clear();
  }

  /** Number of entries held (including ones too old to be served but not yet evicted). */
  get size(): number {
    return this.#lru.size;
  }

  #put(id: string, json: string, ttlMs: number | undefined): void {
    const now = this.#now();
    let until = now + this.#maxAgeMs;
    if (ttlMs !== undefined && ttlMs >= 0) until = Math.min(until, now + ttlMs);
    if (until <= now) {
      this.#lru.delete(id);
      return;
    }
    this.#lru.set(id, { json, until });
  }
}
