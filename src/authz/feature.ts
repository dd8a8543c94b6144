import type { Feature } from '../pipeline/feature.js';

/** The authz feature: compiles its config section and contributes stages to routes. */
export const authzFeature: Feature = {
  id: 'authz',
};
