import type { ErrorEntry } from './catalogue.js';

/** Error codes of the session area. */
export const sessionCodes = {} as const satisfies Record<string, ErrorEntry>;
