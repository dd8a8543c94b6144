import type { Feature } from './feature.js';
import { authnFeature } from '../authn/feature.js';
import { authzFeature } from '../authz/feature.js';
import { sessionFeature } from '../session/feature.js';
import { identityFeature } from '../identity/feature.js';
import { limitsFeature } from '../limits/feature.js';
import { forwardAuthFeature } from '../forward/feature.js';
import { guardFeature } from '../guard/feature.js';

/**
 * Every feature, in pipeline order. Each compiles its global config once, then contributes
 * stages to every route: authenticators → authoriser → limiters → mutators.
 */
export const features: readonly Feature[] = [
  authnFeature,
  sessionFeature,
  authzFeature,
  limitsFeature,
  identityFeature,
  forwardAuthFeature,
  guardFeature,
];
