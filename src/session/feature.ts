import type { Feature } from '../pipeline/feature.js';

/** The session feature: compiles its config section and contributes stages to routes. */
export const sessionFeature: Feature = {
  id: 'session',
};
