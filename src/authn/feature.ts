import type { Feature } from '../pipeline/feature.js';

/** The authn feature: compiles its config section and contributes stages to routes. */
export const authnFeature: Feature = {
  id: 'authn',
};
