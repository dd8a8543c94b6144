import { z } from 'zod';
import type { RouteBasics } from '../pipeline/route.js';
import { redisSchema, type RedisConfig } from '../limits/schema.js';
import { duration, size } from '../util/units.js';

/** Top-level `cache` section: the shared response-cache store. */
export const cacheSchema = z
  .object({
    store: z.enum(['memory', 'redis']).default('memory'),
    max_size: size.default(64 * 1024 * 1024).describe('In-memory store: total bytes kept (LRU).'),
    redis: redisSchema.optional().describe('Defaults to `limits.redis`.'),
  })
  .strict();

/** Route-level `cache`: response caching for GET/HEAD. */
export const routeCacheSchema = z
  .object({
    ttl: duration.describe('Freshness when the upstream gives none; upper bound otherwise.'),
    max_entry_size: size.default(1024 * 1024).describe('Larger responses are streamed but not stored.'),
    vary_on_claims: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Share entries between principals with equal values of these claims (default: per principal).',
      ),
  })
  .strict();

/** Route-level keys owned by the response cache (spread into the route schema). */
export const routeCacheFields = {
  cache: routeCacheSchema.optional(),
};

export type CacheConfig = z.output<typeof cacheSchema>;
export type RouteCacheConfig = z.output<typeof routeCacheSchema>;

/** Route keys the cache feature reads. */
export type CacheRoute = RouteBasics & z.output<z.ZodObject<typeof routeCacheFields>>;

/** Top-level config the cache feature reads (`limits.redis` is the default connection). */
export interface CacheGlobals {
  readonly cache?: CacheConfig | undefined;
  readonly limits?: { readonly redis?: RedisConfig | undefined } | undefined;
}
