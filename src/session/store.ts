import { randomBytes } from 'node:crypto';

/** A session record: any JSON-serialisable object. */
export interface SessionData {
  [k: string]: unknown;
}

/**
 * Server-side session storage behind one interface, so a single Gatehouse keeps everything in
 * memory and several instances share sessions through Redis. Every implementation passes the
 * same conformance suite (`test/session/conformance.ts`).
 *
 * Failures of the backing store reject with `GatehouseError('GH_SESSION_STORE_UNAVAILABLE')`
 * quickly; a request never hangs on the store.
 */
export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  get(id: string): Promise<SessionData | undefined>;
  /**
   * The record as {@link get} would give it, when the store can tell without waiting (memory;
   * a cache it keeps itself): the record, `null` when there is none, `undefined` when only
   * `get` can tell. Optional; never consults the network.
   */
  peek?(id: string): SessionData | null | undefined;
  /**
   * {@link peek}, but the same object for as long as the stored record is unchanged: parsed
   * once per write instead of once per read. Callers must not modify it (nor anything in it).
   */
  peekShared?(id: string): Readonly<SessionData> | null | undefined;
  /** `ttlMs` = time until the absolute expiry of this record. */
  set(id: string, data: SessionData, ttlMs: number): Promise<void>;
  delete(id: string): Promise<void>;
  /**
   * Atomically reads and deletes `id` (single-use records such as SSO handoff codes): of any
   * number of concurrent callers, on any instance sharing the store, at most one gets the record.
   */
  take(id: string): Promise<SessionData | undefined>;
  /**
   * Delete every session associated with `index` (e.g. `sid:<idp sid>` or `sub:<subject>`),
   * for OpenID Connect Back-Channel Logout. Resolves to the number of sessions deleted.
   */
  deleteByIndex(index: string): Promise<number>;
  /** Associate session `id` with the index key `index` for `ttlMs`. */
  index(index: string, id: string, ttlMs: number): Promise<void>;
  /** The ids associated with `index` (may include ended sessions), e.g. a user's sessions for the admin console. */
  members(index: string): Promise<string[]>;
  /**
   * Single-flight lock, across instances when the store is shared: runs `fn` while holding
   * `lock:<key>` for at most `ttlMs`. Other callers poll for up to `waitMs`, then reject with
   * `GatehouseError('GH_SESSION_LOCK_TIMEOUT')`.
   */
  withLock<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A Redis Sentinel address. */
export interface RedisSentinel {
  readonly host: string;
  readonly port: number;
}

/** Configuration of the in-memory store. */
export interface MemoryStoreConfig {
  readonly store: 'memory';
  /** Maximum number of records (sessions + index entries); the oldest are evicted first. Default 100 000. */
  readonly maxEntries?: number;
  /** Sweep interval in ms for expired records. Default 60 000. */
  readonly sweepIntervalMs?: number;
}

/** Configuration of the Redis store. */
export interface RedisStoreConfig {
  readonly store: 'redis';
  /** `redis://[:password@]host:port[/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** Prefix of every key. Default `gatehouse:`. */
  readonly prefix?: string;
  /** When set, connect through Redis Sentinel; `sentinelName` names the monitored master. */
  readonly sentinels?: readonly RedisSentinel[];
  readonly sentinelName?: string;
  /** Connect and per-command timeout in ms. Default 2000. */
  readonly timeoutMs?: number;
  /**
   * Local copy of recently read sessions, invalidated through Redis pub/sub, or `false` for a
   * Redis round trip on every read. Default {@link DEFAULT_NEAR_CACHE}.
   */
  readonly nearCache?: NearCacheConfig | false;
}

/** Settings of the Redis store's near cache (`session.redis.near_cache`). */
export interface NearCacheConfig {
  /** Longest time a cached record is served without reading Redis (ms). */
  readonly maxAgeMs: number;
  /** Most records kept per instance. */
  readonly maxEntries: number;
}

/** The near cache is on by default: records are served for at most 2 s, 10 000 per instance. */
export const DEFAULT_NEAR_CACHE: NearCacheConfig = { maxAgeMs: 2000, maxEntries: 10_000 };

export type SessionStoreConfig = MemoryStoreConfig | RedisStoreConfig;

/** A new session id: 256 bits from the CSPRNG, base64url (43 characters). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}
