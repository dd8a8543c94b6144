import type { GatehouseConfig } from '../config/schema.js';

/** `server.workers` as a process count (`auto`: one per CPU the runtime may use). */
export function workerCount(workers: GatehouseConfig['server']['workers'], cpus: number): number {
  return workers === 'auto' ? Math.max(1, cpus) : workers;
}

/**
 * With more than one worker, state that must be shared cannot live in one process's memory: a
 * 5/min limit would let 5 per worker through, a session created on one worker would be unknown
 * to the next, cached responses would be per worker. Reports each memory-backed store in use
 * with its exact key path. `workers: auto` is refused too (it means several workers on any
 * machine with more than one CPU). Per-worker caches that only save work (verified tokens,
 * introspection answers, forward-auth decisions) are allowed.
 */
export function checkSharedState(
  config: GatehouseConfig,
  issue: (path: string, message: string) => void,
): void {
  const workers = config.server.workers;
  if (workers === 1) return;
  const why = `is "memory" but server.workers is ${JSON.stringify(workers)}: each worker would keep its own copy`;
  const fix = 'use "redis", or server.workers: 1';
  const routesWith = (key: 'limits' | 'cache') =>
    config.routes.filter((r) => {
      const v = (r as Record<string, unknown>)[key];
      return Array.isArray(v) ? v.length > 0 : v !== undefined;
    }).length;
  const limited = routesWith('limits');
  if (limited > 0 && (config.limits?.store ?? 'memory') === 'memory')
    issue(
      'limits.store',
      `${why} (${limited} route(s) with rate limits or quotas would allow N times the limit); ${fix}`,
    );
  if (config.session !== undefined && config.session.store === 'memory')
    issue('session.store', `${why} (a session made on one worker is unknown to the others); ${fix}`);
  const cached = routesWith('cache');
  if (cached > 0 && (config.cache?.store ?? 'memory') === 'memory')
    issue('cache.store', `${why} (${cached} route(s) with a response cache); ${fix}`);
}
