import type { CompileContext, Feature } from '../pipeline/feature.js';
import { RouteCache, newCacheStats, type CacheStats } from '../cache/cache.js';
import { MemoryCacheStore, type CacheStore } from '../cache/store.js';
import { RedisCacheStore } from '../cache/redis-store.js';
import { compileLimit, type CompiledLimit } from './compile.js';
import { RouteLimiter, newLimitStats, type LimitStats } from './limiter.js';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import { sharedRedis, ThrottledLog } from './redis.js';
import type { LimitStore } from './store.js';

/** Shared state of the limits feature for one runtime state (service `limits`). */
export interface LimitsService {
  readonly stats: LimitStats;
  readonly cacheStats: CacheStats;
  /** Throttled warning log for limit-store failures. */
  readonly limiterLog: ThrottledLog;
  /** The limit store, created on first use. */
  limitStore(): LimitStore;
  /** The response-cache store, created on first use. */
  cacheStore(): CacheStore;
  /** Size of the in-memory response cache, when one was created. */
  cacheUsage(): { bytes: number; entries: number } | undefined;
}

const SERVICE = 'limits';

function buildService(cctx: CompileContext): LimitsService {
  const cfg = cctx.config.limits;
  const cacheCfg = cctx.config.cache;
  const stats = newLimitStats();
  const cacheStats = newCacheStats();
  let store: LimitStore | undefined;
  let cstore: CacheStore | undefined;
  const cacheLog = new ThrottledLog(cctx.logger, 'response cache store unavailable: treating as miss');
  return {
    stats,
    cacheStats,
    limiterLog: new ThrottledLog(cctx.logger, 'limit store unavailable: applying on_store_error'),
    limitStore() {
      if (store) return store;
      const client = cfg?.store === 'redis' && cfg.redis ? sharedRedis(cctx, cfg.redis) : undefined;
      if (client && cfg?.redis) store = new RedisLimitStore(client, cfg.redis.key_prefix);
      else {
        const mem = new MemoryLimitStore({
          maxKeys: cfg?.max_keys ?? 100_000,
          sweepIntervalMs: cctx.dryRun ? 0 : 30_000,
        });
        cctx.onClose(() => mem.close());
        store = mem;
      }
      return store;
    },
    cacheUsage() {
      return cstore instanceof MemoryCacheStore
        ? { bytes: cstore.bytes, entries: cstore.entries }
        : undefined;
    },
    cacheStore() {
      if (cstore) return cstore;
      const rcfg = cacheCfg?.redis ?? cfg?.redis;
      const client = cacheCfg?.store === 'redis' && rcfg ? sharedRedis(cctx, rcfg) : undefined;
      if (client && rcfg) cstore = new RedisCacheStore(client, rcfg.key_prefix, cacheLog);
      else {
        const mem = new MemoryCacheStore(cacheCfg?.max_size ?? 64 * 1024 * 1024);
        cctx.onClose(() => mem.close());
        cstore = mem;
      }
      return cstore;
    },
  };
}

/**
 * The limits feature: `limits` (rate limits and quotas, memory or Redis store) and `cache`
 * (response cache). Stores are built once per config load and shared by every route; each
 * route with `limits:` gets one {@link RouteLimiter}, each route with `cache:` a cache mutator
 * the forwarder reads back.
 */
export const limitsFeature: Feature = {
  id: 'limits',

  compileGlobal(cctx) {
    const cfg = cctx.config.limits;
    if (cctx.config.cache?.store === 'redis' && !cctx.config.cache.redis && !cfg?.redis)
      cctx.issue('cache.redis', 'store "redis" needs `cache.redis` or `limits.redis`');
    cctx.services.set(SERVICE, buildService(cctx));
  },

  compileRoute(route, keyPath, cctx, stages) {
    const svc = cctx.services.get(SERVICE) as LimitsService | undefined;
    if (!svc) return;
    const index = Number(/\[(\d+)\]/.exec(keyPath)?.[1] ?? 0);
    const routeName = route.name ?? `routes[${index}]`;
    const policies = cctx.config.limits?.policies ?? {};

    if (route.limits && route.limits.length > 0) {
      const compiled: CompiledLimit[] = [];
      const seen = new Set<string>();
      route.limits.forEach((l, i) => {
        const path = `${keyPath}.limits[${i}]`;
        let c: CompiledLimit | undefined;
        if (typeof l === 'string') {
          const p = policies[l];
          if (!p) {
            const known = Object.keys(policies);
            cctx.issue(
              path,
              `unknown limit policy "${l}"${known.length ? `; expected one of ${known.join(', ')}` : ' (limits.policies is empty)'}`,
            );
            return;
          }
          c = compileLimit(l, p, routeName);
        } else {
          const name = l.name ?? `${routeName}.${i}`;
          if (l.name !== undefined && policies[l.name])
            cctx.issue(
              `${path}.name`,
              `"${l.name}" is also a policy in limits.policies: name the policy instead, or rename this inline limit`,
            );
          c = compileLimit(name, l, routeName);
        }
        if (seen.has(c.name)) cctx.issue(path, `limit "${c.name}" is listed twice on this route`);
        seen.add(c.name);
        compiled.push(c);
      });
      if (compiled.length > 0)
        stages.limiters.push(new RouteLimiter(compiled, svc.limitStore(), svc.stats, svc.limiterLog));
    }

    if (route.cache) {
      const methods = route.match.methods;
      if (methods && !methods.includes('GET') && !methods.includes('HEAD'))
        cctx.issue(
          `${keyPath}.cache`,
          'the response cache serves GET and HEAD only, and this route matches neither',
          'warning',
        );
      const cache = new RouteCache(
        {
          routeName,
          ttlMs: route.cache.ttl,
          maxEntrySize: route.cache.max_entry_size,
          varyOnClaims: route.cache.vary_on_claims?.map((c) => c.split('.')),
        },
        svc.cacheStore(),
        svc.cacheStats,
      );
      stages.mutators.push(cache.mutator());
    }
  },
};
