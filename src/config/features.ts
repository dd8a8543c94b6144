import type { Feature } from '../pipeline/feature.js';
import type { GatehouseConfig, RouteConfig } from './schema.js';
import { authnFeature } from '../authn/feature.js';
import { authzFeature } from '../authz/feature.js';
import { sessionFeature } from '../session/feature.js';
import { identityFeature } from '../identity/feature.js';
import { limitsFeature } from '../limits/feature.js';
import { cacheFeature } from '../cache/feature.js';
import { forwardAuthFeature } from '../forward/feature.js';
import { guardFeature } from '../guard/feature.js';
import { tracingFeature } from '../tracing/feature.js';
import { adminFeature } from '../admin/feature.js';

/** A feature as the assembler sees it: compiled against the whole config. */
export type GatehouseFeature = Feature<GatehouseConfig, RouteConfig>;

/**
 * Every feature, in pipeline order. Each compiles its global config once, then contributes
 * stages to every route: authenticators → authoriser → limiters → mutators (the response
 * cache's before the identity headers'). Each feature declares the slice of the config it
 * reads; listing it here checks that slice against the real config types.
 */
export const features: readonly GatehouseFeature[] = [
  tracingFeature,
  authnFeature,
  sessionFeature,
  authzFeature,
  limitsFeature,
  cacheFeature,
  identityFeature,
  forwardAuthFeature,
  guardFeature,
  adminFeature,
];
