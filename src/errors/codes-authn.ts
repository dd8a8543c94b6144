import type { ErrorEntry } from './catalogue.js';

/** Error codes of the authn area. */
export const authnCodes = {} as const satisfies Record<string, ErrorEntry>;
