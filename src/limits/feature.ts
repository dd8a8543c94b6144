import type { Feature } from '../pipeline/feature.js';

/** The limits feature: compiles its config section and contributes stages to routes. */
export const limitsFeature: Feature = {
  id: 'limits',
};
