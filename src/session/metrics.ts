import { CallbackMetric } from '../metrics/registry.js';

/**
 * Process-wide counts of session reads of the Redis store's near cache (they outlive reloads,
 * like any Prometheus counter): `hit` answered locally, `miss` read from Redis with the cache
 * usable, `bypass` read from Redis because the cache is configured but not usable (invalidation
 * channel not subscribed, or Redis disconnected).
 */
export const sessionCacheCounters = { hit: 0, miss: 0, bypass: 0 };

/** Scrape-time view of {@link sessionCacheCounters}: `gatehouse_session_cache_total{result}`. */
export function sessionCacheMetrics(): CallbackMetric[] {
  return [
    new CallbackMetric(
      'gatehouse_session_cache_total',
      'Session reads of the Redis store near cache by result: hit, miss (read from Redis), or bypass (cache not usable: invalidations not subscribed or Redis down).',
      'counter',
      () => [
        { labels: { result: 'hit' }, value: sessionCacheCounters.hit },
        { labels: { result: 'miss' }, value: sessionCacheCounters.miss },
        { labels: { result: 'bypass' }, value: sessionCacheCounters.bypass },
      ],
    ),
  ];
}
