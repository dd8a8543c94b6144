import type { ErrorEntry } from './catalogue.js';

/** Error codes of the authz area. */
export const authzCodes = {} as const satisfies Record<string, ErrorEntry>;
