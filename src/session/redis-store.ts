import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { encodeInvalidation, InvalidationChannel, isLive } from './invalidation.js';
import { sessionCacheCounters } from './metrics.js';
import { NearCache } from './near-cache.js';
import { DEFAULT_NEAR_CACHE, type RedisStoreConfig, type SessionData, type SessionStore } from './store.js';

/** Release a lock only when it still holds our token (it may have expired and been re-taken). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** SADD + extend (never shorten) the set's expiry to cover the newest member. */
const INDEX = `redis.call('sadd', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('pttl', KEYS[1]) < ttl then redis.call('pexpire', KEYS[1], ttl) end
return 1`;

/** GET + DEL in one script (atomic; also on Redis before 6.2, which lacks GETDEL), publishing the invalidation. */
const TAKE = `local v = redis.call('get', KEYS[1])
if v then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[1], ARGV[2])
end
return v`;

const LOCK_POLL_MS = 25;

/**
 * Session store shared by several Gatehouse instances through Redis (ioredis).
 *
 * Keys: `<prefix>s:<id>` (JSON, `SET … PX`), `<prefix>i:<index>` (sets of ids, expiring with
 * their newest member), `<prefix>lock:<key>` (`SET NX PX` + token-checked release). The client
 * never queues commands while disconnected and retries a command at most once, so when Redis
 * is unreachable every operation rejects within the configured timeout with
 * `GH_SESSION_STORE_UNAVAILABLE` instead of hanging the request.
 *
 * Every write of a session (`set`, `delete`, `take`, `deleteByIndex`) publishes the affected ids
 * on `<prefix>inv` in the same transaction. With the near cache on (the default), `get` serves
 * records read in the last `maxAgeMs` from a local {@link NearCache} while a second connection
 * is subscribed to that channel ({@link InvalidationChannel}) and the command connection is up;
 * otherwise, and for every miss, it reads Redis.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #channel: string;
  /** Identifies this instance's invalidations, which its own subscriber skips. */
  readonly #origin = randomBytes(12).toString('base64url');
  readonly #near: NearCache | undefined;
  readonly #inv: InvalidationChannel | undefined;
  #everReady = false;
  #down = false;

  constructor(cfg: RedisStoreConfig, logger: Logger) {
    this.#prefix = cfg.prefix ?? 'gatehouse:';
    this.#timeoutMs = cfg.timeoutMs ?? 2000;
    this.#logger = logger;
    const opts: RedisOptions = {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: this.#timeoutMs,
      commandTimeout: this.#timeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: false,
    };
    if (cfg.sentinels !== undefined && cfg.sentinels.length > 0) {
      const u = new URL(cfg.url);
      const db = Number(u.pathname.slice(1) || 0);
      this.#client = new Redis({
        ...opts,
        sentinels: cfg.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: cfg.sentinelName ?? 'mymaster',
        ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
        db: Number.isInteger(db) ? db : 0,
        ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      });
    } else {
      this.#client = new Redis(cfg.url, opts);
    }
    this.#client.on('ready', () => {
      this.#everReady = true;
      if (this.#down) this.#logger.info({ store: 'redis' }, 'session store: redis connection restored');
      this.#down = false;
    });
    this.#client.on('error', (err: Error) => {
      if (!this.#down)
        this.#logger.error({ store: 'redis', err: err.message }, 'session store: redis unavailable');
      this.#down = true;
    });
    this.#channel = `${this.#prefix}inv`;
    const nc = cfg.nearCache ?? DEFAULT_NEAR_CACHE;
    if (nc !== false && nc.maxAgeMs > 0 && nc.maxEntries > 0) {
      const near = new NearCache(nc);
      this.#near = near;
      // Replies sent before a reconnect may be resent after it: none of them may fill the cache.
      this.#client.on('close', () => near.clear());
      const sub = this.#client.duplicate({ autoResubscribe: false });
      sub.on('error', () => undefined); // reported by the command connection
      this.#inv = new InvalidationChannel(sub, this.#channel, this.#origin, near, logger);
    }
  }

  /** Whether `get` may currently answer from the near cache (subscribed and connected). */
  get nearCacheActive(): boolean {
    return this.#nearUsable();
  }

  /** Local hits, misses and discarded replies of the near cache (undefined when it is off). */
  get nearCacheStats(): Readonly<NearCache['stats']> | undefined {
    return this.#near?.stats;
  }

  async get(id: string): Promise<SessionData | undefined> {
    const near = this.#near;
    if (near !== undefined) {
      if (this.#nearUsable()) {
        const hit = near.get(id);
        if (hit !== undefined) {
          sessionCacheCounters.hit++;
          return hit;
        }
        sessionCacheCounters.miss++;
        return this.#getAndFill(id, near);
      }
      sessionCacheCounters.bypass++;
    }
    const raw = await this.#run('get', (c) => c.get(this.#skey(id)));
    return raw === null ? undefined : this.#parse(raw);
  }

  /**
   * The near-cached record `id` (a fresh copy) while the cache may be served, else undefined:
   * only `get` can tell (absent ids are never cached). Never touches the network.
   */
  peek(id: string): SessionData | undefined {
    const hit = this.#near !== undefined && this.#nearUsable() ? this.#near.get(id) : undefined;
    if (hit !== undefined) sessionCacheCounters.hit++;
    return hit;
  }

  /** {@link peek}, parsed once per cached value and shared: callers must not modify it. */
  peekShared(id: string): Readonly<SessionData> | undefined {
    const hit = this.#near !== undefined && this.#nearUsable() ? this.#near.getShared(id) : undefined;
    if (hit !== undefined) sessionCacheCounters.hit++;
    return hit;
  }

  /** GET (with PTTL, so no entry outlives its record) and cache the reply if nothing changed meanwhile. */
  async #getAndFill(id: string, near: NearCache): Promise<SessionData | undefined> {
    const key = this.#skey(id);
    const ticket = near.begin();
    const res = await this.#run('get', (c) => c.pipeline().get(key).pttl(key).exec());
    const [g, t] = res ?? [];
    if (g === undefined || g[0] !== null) throw unavailable('get', g?.[0] ?? new Error('no reply'));
    const raw = g[1] as string | null;
    if (raw === null) return undefined;
    const data = this.#parse(raw);
    const pttl = t !== undefined && t[0] === null ? Number(t[1]) : -2;
    if (data !== undefined && pttl !== -2 && this.#nearUsable())
      near.fill(id, raw, ticket, pttl >= 0 ? pttl : undefined);
    return data;
  }

  #parse(raw: string): SessionData | undefined {
    try {
      return JSON.parse(raw) as SessionData;
    } catch {
      this.#logger.warn({ store: 'redis' }, 'session store: discarding an unreadable session record');
      return undefined;
    }
  }

  /** Cached entries are served only while invalidations arrive and Redis itself is reachable. */
  #nearUsable(): boolean {
    return this.#inv !== undefined && this.#inv.healthy && isLive(this.#client);
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<void> {
    const ttl = Math.ceil(ttlMs);
    if (ttl <= 0) {
      await this.delete(id);
      return;
    }
    const json = JSON.stringify(data);
    const ticket = this.#near?.begin() ?? 0;
    try {
      await this.#exec('set', (m) =>
        m.set(this.#skey(id), json, 'PX', ttl).publish(this.#channel, this.#inval([id])),
      );
    } catch (e) {
      // It may have been applied (a timeout): this instance skips its own message, so evict.
      this.#near?.invalidate([id]);
      throw e;
    }
    this.#near?.write(id, json, ticket, ttl);
  }

  async delete(id: string): Promise<void> {
    try {
      await this.#exec('delete', (m) => m.del(this.#skey(id)).publish(this.#channel, this.#inval([id])));
    } finally {
      this.#near?.invalidate([id]);
    }
  }

  async take(id: string): Promise<SessionData | undefined> {
    let raw: string | null;
    try {
      raw = (await this.#run('take', (c) =>
        c.eval(TAKE, 1, this.#skey(id), this.#channel, this.#inval([id])),
      )) as string | null;
    } finally {
      this.#near?.invalidate([id]);
    }
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as SessionData;
    } catch {
      return undefined;
    }
  }

  async index(index: string, id: string, ttlMs: number): Promise<void> {
    const ttl = Math.ceil(ttlMs);
    if (ttl <= 0) return;
    await this.#run('index', (c) => c.eval(INDEX, 1, this.#ikey(index), id, ttl));
  }

  async members(index: string): Promise<string[]> {
    const key = this.#ikey(index);
    return this.#run('members', (c) => c.smembers(key));
  }

  async deleteByIndex(index: string): Promise<number> {
    const key = this.#ikey(index);
    const ids = await this.#run('deleteByIndex', (c) => c.smembers(key));
    if (ids.length === 0) return 0;
    const res = await this.#run('deleteByIndex', (c) =>
      c
        .multi()
        .del(...ids.map((id) => this.#skey(id)))
        .del(key)
        .publish(this.#channel, this.#inval(ids))
        .exec(),
    ).finally(() => this.#near?.invalidate(ids));
    const first = res?.[0];
    if (first === undefined || first[0] !== null)
      throw unavailable('deleteByIndex', first?.[0] ?? new Error('transaction aborted'));
    return Number(first[1]);
  }

  async withLock<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.#prefix}lock:${key}`;
    const token = randomBytes(16).toString('base64url');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const deadline = Date.now() + waitMs;
    for (;;) {
      const ok = await this.#run('lock', (c) => c.set(lockKey, token, 'PX', ttl, 'NX'));
      if (ok === 'OK') break;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new GatehouseError('GH_SESSION_LOCK_TIMEOUT', `lock ${key} still held after ${waitMs} ms`);
      await sleep(Math.min(LOCK_POLL_MS, left));
    }
    try {
      return await fn();
    } finally {
      try {
        await this.#run('unlock', (c) => c.eval(RELEASE, 1, lockKey, token));
      } catch (e) {
        // The lock expires on its own after ttlMs; never mask the result of fn.
        this.#logger.warn(
          { store: 'redis', err: (e as Error).message },
          'session store: could not release lock',
        );
      }
    }
  }

  async close(): Promise<void> {
    await this.#inv?.close();
    if (this.#client.status === 'ready') {
      try {
        await this.#client.quit();
        return;
      } catch {
        /* fall through */
      }
    }
    this.#client.disconnect();
  }

  #skey(id: string): string {
    return `${this.#prefix}s:${id}`;
  }

  #ikey(index: string): string {
    return `${this.#prefix}i:${index}`;
  }

  #inval(ids: readonly string[]): string {
    return encodeInvalidation(this.#origin, ids);
  }

  /** Runs a MULTI/EXEC transaction; any failed command rejects with GH_SESSION_STORE_UNAVAILABLE. */
  async #exec(op: string, build: (m: ChainableCommander) => ChainableCommander): Promise<void> {
    const res = await this.#run(op, (c) => build(c.multi()).exec());
    if (res === null) throw unavailable(op, new Error('transaction aborted'));
    for (const [err] of res) if (err !== null) throw unavailable(op, err);
  }

  /** Runs one command, waiting for the first connection but failing fast once a connection failed. */
  async #run<T>(op: string, cmd: (c: Redis) => Promise<T>): Promise<T> {
    if (this.#client.status !== 'ready') await this.#awaitReady(op);
    try {
      return await cmd(this.#client);
    } catch (e) {
      if (isGatehouseError(e)) throw e;
      throw unavailable(op, e);
    }
  }

  async #awaitReady(op: string): Promise<void> {
    const st = this.#client.status;
    if (this.#everReady || this.#down || st === 'end' || st === 'close')
      throw unavailable(op, new Error(`connection ${st}`));
    const c = this.#client;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        c.off('end', onEnd);
        c.off('error', onEnd);
        if (err) reject(unavailable(op, err));
        else resolve();
      };
      const onReady = () => done();
      const onEnd = (err?: Error) => done(err ?? new Error('connection ended'));
      const timer = setTimeout(
        () => done(new Error(`not connected after ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      c.once('ready', onReady);
      c.once('end', onEnd);
      c.once('error', onEnd);
    });
  }
}

function unavailable(op: string, cause: unknown): GatehouseError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new GatehouseError('GH_SESSION_STORE_UNAVAILABLE', `redis ${op}: ${msg}`, { cause });
}
