import type { Feature } from '../pipeline/feature.js';

/** The identity feature: compiles its config section and contributes stages to routes. */
export const identityFeature: Feature = {
  id: 'identity',
};
