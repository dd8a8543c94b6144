import type { ErrorEntry } from './catalogue.js';

/** Error codes of the limits area. */
export const limitsCodes = {} as const satisfies Record<string, ErrorEntry>;
