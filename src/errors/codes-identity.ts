import type { ErrorEntry } from './catalogue.js';

/** Error codes of the identity area. */
export const identityCodes = {} as const satisfies Record<string, ErrorEntry>;
