import type { CompileContext, Feature } from '../pipeline/feature.js';
import { compileLimit, type CompiledLimit } from './compile.js';
import { RouteLimiter, newLimitStats, type LimitStats } from './limiter.js';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import { LeasedLimitStore } from './lease.js';
import { sharedRedis, ThrottledLog } from './redis.js';
import type { LimitStore } from './store.js';
import type { LimitsGlobals, LimitsRoute } from './schema.js';

/** Shared state of the limits feature for one runtime state (service `limits`). */
export interface LimitsService {
  readonly stats: LimitStats;
  /** Throttled warning log for limit-store failures. */
  readonly limiterLog: ThrottledLog;
  /** The limit store, created on first use. */
  limitStore(): LimitStore;
}

/** Name of the service holding the {@link LimitsService}. */
export const LIMITS_SERVICE = 'limits';

function buildService(cctx: CompileContext<LimitsGlobals>): LimitsService {
  const cfg = cctx.config.limits;
  const stats = newLimitStats();
  let store: LimitStore | undefined;
  return {
    stats,
    limiterLog: new ThrottledLog(cctx.logger, 'limit store unavailable: applying on_store_error'),
    limitStore() {
      if (store) return store;
      const client = cfg?.store === 'redis' && cfg.redis ? sharedRedis(cctx, cfg.redis) : undefined;
      if (client && cfg?.redis) {
        const lease = cfg.lease;
        const leased = new LeasedLimitStore(new RedisLimitStore(client, cfg.redis.key_prefix), {
          max: lease.max,
          share: lease.share,
          ttlMs: lease.ttl,
          maxKeys: lease.max_keys,
        });
        cctx.onClose(() => leased.close());
        store = leased;
      } else {
        const mem = new MemoryLimitStore({
          maxKeys: cfg?.max_keys ?? 100_000,
          sweepIntervalMs: cctx.dryRun ? 0 : 30_000,
        });
        cctx.onClose(() => mem.close());
        store = mem;
      }
      return store;
    },
  };
}

/**
 * The limits feature: `limits` (rate limits and quotas, memory or Redis store). The store is
 * built once per config load and shared by every route; each route with `limits:` gets one
 * {@link RouteLimiter}.
 */
export const limitsFeature: Feature<LimitsGlobals, LimitsRoute> = {
  id: 'limits',

  compileGlobal(cctx) {
    cctx.services.set(LIMITS_SERVICE, buildService(cctx));
  },

  compileRoute(route, keyPath, cctx, stages) {
    const svc = cctx.services.get(LIMITS_SERVICE) as LimitsService | undefined;
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
  },
};
