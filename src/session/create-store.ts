import type { Logger } from 'pino';
import { MemorySessionStore } from './memory-store.js';
import { RedisSessionStore } from './redis-store.js';
import type { SessionConfig } from './schema.js';
import type { SessionStore, SessionStoreConfig } from './store.js';

/** Builds the configured session store. */
export function createSessionStore(cfg: SessionStoreConfig, logger: Logger): SessionStore {
  if (cfg.store === 'redis') return new RedisSessionStore(cfg, logger);
  return new MemorySessionStore(cfg);
}

/** The store settings of a `session` section (`store`, `redis`). */
export function storeConfigOf(cfg: SessionConfig): SessionStoreConfig {
  if (cfg.store === 'redis' && cfg.redis) {
    const r = cfg.redis;
    return {
      store: 'redis',
      url: r.url,
      prefix: r.prefix,
      timeoutMs: r.timeout,
      sentinels: r.sentinels,
      sentinelName: r.sentinel_name,
      nearCache:
        r.near_cache === false
          ? false
          : { maxAgeMs: r.near_cache.max_age, maxEntries: r.near_cache.max_entries },
    };
  }
  return { store: 'memory' };
}
