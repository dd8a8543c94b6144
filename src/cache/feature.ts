import type { CompileContext, Feature } from '../pipeline/feature.js';
import { sharedRedis, ThrottledLog } from '../limits/redis.js';
import { RouteCache, newCacheStats, type CacheStats } from './cache.js';
import { RedisCacheStore } from './redis-store.js';
import type { CacheGlobals, CacheRoute } from './schema.js';
import { MemoryCacheStore, type CacheStore } from './store.js';

/** Shared state of the response cache for one runtime state (service {@link CACHE_SERVICE}). */
export interface CacheService {
  readonly stats: CacheStats;
  /** The store, created on first use (a route with `cache:`). */
  store(): CacheStore;
  /** Size of the in-memory store, when one was created. */
  usage(): { bytes: number; entries: number } | undefined;
}

/** Name of the service holding the {@link CacheService}. */
export const CACHE_SERVICE = 'cache';

function buildService(cctx: CompileContext<CacheGlobals>): CacheService {
  const cfg = cctx.config.cache;
  const stats = newCacheStats();
  const log = new ThrottledLog(cctx.logger, 'response cache store unavailable: treating as miss');
  let store: CacheStore | undefined;
  return {
    stats,
    usage() {
      return store instanceof MemoryCacheStore ? { bytes: store.bytes, entries: store.entries } : undefined;
    },
    store() {
      if (store) return store;
      const rcfg = cfg?.redis ?? cctx.config.limits?.redis;
      const client = cfg?.store === 'redis' && rcfg ? sharedRedis(cctx, rcfg) : undefined;
      if (client && rcfg) store = new RedisCacheStore(client, rcfg.key_prefix, log);
      else {
        const mem = new MemoryCacheStore(cfg?.max_size ?? 64 * 1024 * 1024);
        cctx.onClose(() => mem.close());
        store = mem;
      }
      return store;
    },
  };
}

/**
 * The response cache: `cache` (the shared store, memory or Redis) and a route's `cache:` (a
 * mutator the forwarder reads back to answer fresh GET/HEAD responses and store new ones).
 * Runs after the limits feature, so a limited request never reaches the cache.
 */
export const cacheFeature: Feature<CacheGlobals, CacheRoute> = {
  id: 'cache',

  compileGlobal(cctx) {
    const cfg = cctx.config.cache;
    if (cfg?.store === 'redis' && !cfg.redis && !cctx.config.limits?.redis)
      cctx.issue('cache.redis', 'store "redis" needs `cache.redis` or `limits.redis`');
    cctx.services.set(CACHE_SERVICE, buildService(cctx));
  },

  compileRoute(route, keyPath, cctx, stages) {
    const svc = cctx.services.get(CACHE_SERVICE) as CacheService | undefined;
    if (!svc || !route.cache) return;
    const methods = route.match.methods;
    if (methods && !methods.includes('GET') && !methods.includes('HEAD'))
      cctx.issue(
        `${keyPath}.cache`,
        'the response cache serves GET and HEAD only, and this route matches neither',
        'warning',
      );
    const index = Number(/\[(\d+)\]/.exec(keyPath)?.[1] ?? 0);
    const cache = new RouteCache(
      {
        routeName: route.name ?? `routes[${index}]`,
        ttlMs: route.cache.ttl,
        maxEntrySize: route.cache.max_entry_size,
        varyOnClaims: route.cache.vary_on_claims?.map((c) => c.split('.')),
      },
      svc.store(),
      svc.stats,
    );
    stages.mutators.push(cache.mutator());
  },
};
