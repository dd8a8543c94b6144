import { z } from 'zod';
import { duration } from '../util/units.js';

/** Longest allowed `forward_auth.cache_ttl`. */
export const MAX_CACHE_TTL_MS = 60_000;

/** Top-level `forward_auth`: options of `/.gatehouse/auth` (forward-auth mode). */
export const forwardAuthSchema = z
  .object({
    cache_ttl: duration
      .pipe(
        z
          .number()
          .max(
            MAX_CACHE_TTL_MS,
            'expected at most 60s: a cached identity outlives a revoked session by this long',
          ),
      )
      .default(0)
      .describe(
        'Remember who presented a credential on a route for this long (at most 60s; default 0 = off). Rules, limits and identity headers still run for every check.',
      ),
    cache_max_entries: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Bound of the decision cache; the oldest entries are dropped first.'),
  })
  .strict()
  .describe('Forward-auth mode (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth).');

export type ForwardAuthConfig = z.output<typeof forwardAuthSchema>;

/** Top-level config the forward-auth feature reads. */
export interface ForwardAuthGlobals {
  readonly forward_auth?: ForwardAuthConfig | undefined;
}
