/**
 * Config builders for the limits and cache benchmark rows (issue 6, point 7), in the shape of
 * `GatehouseDoc` (bench/lib/cand-core.ts): route fields for the measured route, route fields for
 * the gate route, and top-level sections. Each row differs from the plain proxy in exactly one
 * feature, so its ratio to `gh-plain` is the cost of that feature.
 */

/** One benchmark configuration: measured route, gate route, top-level sections. */
export interface LimitsBenchDoc {
  readonly route: Record<string, unknown>;
  readonly gateRoute?: Record<string, unknown> | undefined;
  readonly top?: Record<string, unknown> | undefined;
}

/** A limit the load never reaches: what is measured is the check itself (key, store, headers off). */
export const OPEN_LIMIT = Object.freeze({ name: 'bench-rate', rate: '10000000/s', key: 'ip' });

/** A limit the gate route trips on its second request, proving the limiter is active. */
export const GATE_LIMIT = Object.freeze({ name: 'gate-rate', rate: '1/min', key: 'ip' });

/** Plain proxying, `auth: none`: the baseline every row here is compared with. */
export function plainDoc(): LimitsBenchDoc {
  return { route: { auth: 'none' } };
}

/** One token-bucket limit per client IP, counters in process memory (target: < 5 % cost). */
export function limitMemoryDoc(): LimitsBenchDoc {
  return {
    route: { auth: 'none', limits: [OPEN_LIMIT] },
    gateRoute: { auth: 'none', limits: [GATE_LIMIT] },
    top: { limits: { store: 'memory' } },
  };
}

/** The same limit with counters in Redis: one EVALSHA round trip per request (target: < 25 %). */
export function limitRedisDoc(redisUrl: string): LimitsBenchDoc {
  return {
    route: { auth: 'none', limits: [OPEN_LIMIT] },
    gateRoute: { auth: 'none', limits: [GATE_LIMIT] },
    top: { limits: { store: 'redis', redis: { url: redisUrl } } },
  };
}

/** A quota (sliding window, per IP) instead of a token bucket: same cost model, two counters. */
export function quotaMemoryDoc(): LimitsBenchDoc {
  return {
    route: { auth: 'none', limits: [{ name: 'bench-quota', quota: '1000000000/hour', key: 'ip' }] },
    gateRoute: { auth: 'none', limits: [{ name: 'gate-quota', quota: '1/hour', key: 'ip' }] },
    top: { limits: { store: 'memory' } },
  };
}

/** Response cache on the measured route; after the first request every request is a hit. */
export function cachedDoc(maxSize = '64mb'): LimitsBenchDoc {
  return {
    route: { auth: 'none', cache: { ttl: '1h' } },
    top: { cache: { store: 'memory', max_size: maxSize } },
  };
}
