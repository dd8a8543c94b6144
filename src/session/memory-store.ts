import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatehouseError } from '../errors/index.js';
import type { MemoryStoreConfig, SessionData, SessionStore } from './store.js';

interface Entry {
  readonly json: string;
  readonly exp: number;
  /** `json` parsed once, for {@link MemorySessionStore.peekShared}; a write makes a new entry. */
  shared?: Readonly<SessionData>;
}

const LOCK_POLL_MS = 10;

/**
 * The default session store of a single Gatehouse: a `Map` with absolute expiry per record,
 * a periodic (unref'd) sweep and a bound on its size (the least recently written records are
 * evicted first). Records are stored as JSON text, so callers never share object references
 * with the store and values round-trip exactly as they would through Redis.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  readonly #sessions = new Map<string, Entry>();
  /** index key → (session id → expiry) */
  readonly #indexes = new Map<string, Map<string, number>>();
  readonly #locks = new Map<string, { token: string; exp: number }>();
  readonly #max: number;
  readonly #timer: NodeJS.Timeout;

  constructor(cfg: Partial<MemoryStoreConfig> = {}) {
    this.#max = cfg.maxEntries ?? 100_000;
    this.#timer = setInterval(() => this.sweep(), cfg.sweepIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** Number of live session records (for metrics and tests). */
  get size(): number {
    return this.#sessions.size;
  }

  async get(id: string): Promise<SessionData | undefined> {
    return this.peek(id) ?? undefined;
  }

  /** Synchronous {@link get}: the record (a fresh copy) or `null`. */
  peek(id: string): SessionData | null {
    const e = this.#live(id);
    return e === undefined ? null : (JSON.parse(e.json) as SessionData);
  }

  /** The record parsed once per write (read-only, shared between readers) or `null`. */
  peekShared(id: string): Readonly<SessionData> | null {
    const e = this.#live(id);
    if (e === undefined) return null;
    return (e.shared ??= JSON.parse(e.json) as SessionData);
  }

  #live(id: string): Entry | undefined {
    const e = this.#sessions.get(id);
    if (e === undefined) return undefined;
    if (e.exp <= Date.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return e;
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<void> {
    const json = JSON.stringify(data);
    this.#sessions.delete(id);
    if (ttlMs <= 0) return;
    this.#sessions.set(id, { json, exp: Date.now() + ttlMs });
    evictOldest(this.#sessions, this.#max);
  }

  async delete(id: string): Promise<void> {
    this.#sessions.delete(id);
  }

  async take(id: string): Promise<SessionData | undefined> {
    const e = this.#sessions.get(id);
    if (e === undefined) return undefined;
    this.#sessions.delete(id);
    return e.exp <= Date.now() ? undefined : (JSON.parse(e.json) as SessionData);
  }

  async index(index: string, id: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    let ids = this.#indexes.get(index);
    if (ids === undefined) {
      ids = new Map();
      this.#indexes.set(index, ids);
      evictOldest(this.#indexes, this.#max);
    }
    ids.set(id, Math.max(ids.get(id) ?? 0, Date.now() + ttlMs));
  }

  async members(index: string): Promise<string[]> {
    const now = Date.now();
    return [...(this.#indexes.get(index) ?? [])].filter(([, exp]) => exp > now).map(([id]) => id);
  }

  async deleteByIndex(index: string): Promise<number> {
    const ids = this.#indexes.get(index);
    if (ids === undefined) return 0;
    this.#indexes.delete(index);
    const now = Date.now();
    let n = 0;
    for (const [id, indexExp] of ids) {
      const e = indexExp > now ? this.#sessions.get(id) : undefined;
      if (e === undefined) continue;
      this.#sessions.delete(id);
      if (e.exp > now) n++;
    }
    return n;
  }

  async withLock<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const token = randomBytes(12).toString('base64url');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = Date.now();
      const held = this.#locks.get(key);
      if (held === undefined || held.exp <= now) {
        this.#locks.set(key, { token, exp: now + ttlMs });
        break;
      }
      if (now >= deadline)
        throw new GatehouseError('GH_SESSION_LOCK_TIMEOUT', `lock ${key} still held after ${waitMs} ms`);
      await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - now)));
    }
    try {
      return await fn();
    } finally {
      if (this.#locks.get(key)?.token === token) this.#locks.delete(key);
    }
  }

  /** Drops expired sessions, index entries and locks. Runs periodically; public for tests. */
  sweep(now = Date.now()): void {
    for (const [id, e] of this.#sessions) if (e.exp <= now) this.#sessions.delete(id);
    for (const [key, ids] of this.#indexes) {
      for (const [id, exp] of ids) if (exp <= now) ids.delete(id);
      if (ids.size === 0) this.#indexes.delete(key);
    }
    for (const [key, l] of this.#locks) if (l.exp <= now) this.#locks.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#sessions.clear();
    this.#indexes.clear();
    this.#locks.clear();
  }
}

/** Map iteration order is insertion order: the first keys are the least recently written. */
function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done === true) return;
    map.delete(first.value);
  }
}
