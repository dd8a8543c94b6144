import { Lru } from '../util/lru.js';

/** A stored response. Headers are the upstream's, minus hop-by-hop fields and `Age`. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Epoch ms when stored. */
  readonly storedAt: number;
  /** Epoch ms when it stops being fresh. */
  readonly expiresAt: number;
  /** Upstream `Age` at store time, seconds. */
  readonly initialAge: number;
}

/** What lives under a primary key: a response, or the Vary field names that select one. */
export type CacheValue =
  | { readonly kind: 'response'; readonly response: CachedResponse }
  | { readonly kind: 'vary'; readonly names: readonly string[]; readonly expiresAt: number };

/**
 * Where cached responses live. The memory store answers synchronously; the Redis store with
 * a Promise (and treats Redis errors as misses).
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  get(key: string, now: number): CacheValue | undefined | Promise<CacheValue | undefined>;
  set(key: string, value: CacheValue, now: number): void;
  close(): void;
}

/** Approximate bytes a value holds in memory. */
export function valueSize(key: string, v: CacheValue): number {
  if (v.kind === 'vary') return key.length + 64 + v.names.reduce((n, s) => n + s.length, 0);
  let n = key.length + v.response.body.length + 128;
  for (const [k, val] of v.response.headers) n += k.length + val.length + 16;
  return n;
}

/**
 * Byte-bounded in-memory LRU. Expired entries are dropped on access; the least recently used
 * go first when room is needed.
 */
export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  readonly #lru = new Lru<string, { value: CacheValue; size: number; expiresAt: number }>(
    Number.MAX_SAFE_INTEGER,
  );
  readonly #maxBytes: number;
  #bytes = 0;
  evictions = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get entries(): number {
    return this.#lru.size;
  }

  get(key: string, now: number): CacheValue | undefined {
    const e = this.#lru.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.#lru.delete(key);
      this.#bytes -= e.size;
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: CacheValue, _now: number): void {
    const size = valueSize(key, value);
    const old = this.#lru.peek(key);
    if (old) {
      this.#lru.delete(key);
      this.#bytes -= old.size;
    }
    if (size > this.#maxBytes) return;
    const expiresAt = value.kind === 'vary' ? value.expiresAt : value.response.expiresAt;
    this.#lru.set(key, { value, size, expiresAt });
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#lru.shift();
      if (oldest === undefined) break;
      this.#bytes -= oldest[1].size;
      this.evictions++;
    }
  }

  close(): void {
    this.#lru.clear();
    this.#bytes = 0;
  }
}
